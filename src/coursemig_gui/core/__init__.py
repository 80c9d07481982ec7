"""Everything a CLI user needs too: no Qt import anywhere in this package."""
