; Inno Setup script: CourseMig's Windows installer (per-user by default, no admin rights needed;
; Start-menu entry, optional desktop icon, uninstaller in "Installed apps").
; Built by .github/workflows/installers.yml on a Windows runner, after PyInstaller made
; packaging\dist\coursemig\ from packaging\coursemig.spec:
;   iscc /DAppVersion=0.1.0 packaging\windows\coursemig.iss
; The version comes from coursemig_gui.__version__ (pyproject.toml); it must be numeric (x.y.z).
; Output: packaging\dist\coursemig-<version>-windows-x64-setup.exe
; Paths below are relative to this file's folder.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=x.y.z packaging\windows\coursemig.iss
#endif

[Setup]
; CourseMig's own AppId: never change it, or upgrades install beside the old version.
AppId={{364BBF6E-462E-43D4-B6C9-9916307C345F}
AppName=CourseMig
AppVersion={#AppVersion}
AppVerName=CourseMig {#AppVersion}
AppPublisher=CourseMig
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\CourseMig
DefaultGroupName=CourseMig
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SetupIconFile=..\..\resources\coursemig.ico
UninstallDisplayIcon={app}\coursemig.exe
UninstallDisplayName=CourseMig {#AppVersion}
; closes a running CourseMig before files are replaced or removed
CloseApplications=yes
OutputDir=..\dist
OutputBaseFilename=coursemig-{#AppVersion}-windows-x64-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\dist\coursemig\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\CourseMig"; Filename: "{app}\coursemig.exe"
Name: "{group}\Uninstall CourseMig"; Filename: "{uninstallexe}"
Name: "{autodesktop}\CourseMig"; Filename: "{app}\coursemig.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\coursemig.exe"; Description: "{cm:LaunchProgram,CourseMig}"; Flags: nowait postinstall skipifsilent
