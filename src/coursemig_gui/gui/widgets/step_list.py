"""The list of steps down the left side: the current one bold, finished ones ticked."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class StepList(QWidget):
    def __init__(self, steps: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepList")
        self._steps = steps
        self._labels: list[QLabel] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 18, 12)
        layout.setSpacing(10)
        for _ in steps:
            label = QLabel()
            layout.addWidget(label)
            self._labels.append(label)
        layout.addStretch(1)
        self.set_current(0)

    def set_current(self, current: int) -> None:
        for i, (label, step) in enumerate(zip(self._labels, self._steps, strict=True)):
            font = label.font()
            font.setBold(i == current)
            label.setFont(font)
            # A tick for what is behind the user; the current step gets an arrow, so the
            # difference does not depend on boldness alone (screen readers, small screens).
            mark = "✓" if i < current else "▸" if i == current else "  "
            label.setText(f"{mark}  {step}")
            label.setEnabled(i <= current)
            label.setAccessibleName(
                f"{step}: "
                + ("done" if i < current else "current step" if i == current else "to do")
            )
