; Inno Setup script for the Lifeline console on Windows (not built on this project's CI).
;
; On a Windows machine with Python, the project and Inno Setup 6:
;   python -m installers build console
;   python -m signing windows sign dist\lifeline-console\lifeline-console.exe …
;   iscc /DAppVersion=0.1.0 installers\windows\lifeline-console.iss
;   python -m signing windows sign dist\lifeline-console-0.1.0-setup.exe …
; AppVersion must be the version in pyproject.toml (docs/packaging.md shows how to
; read it). Sign the program before packing it and the setup after, so that both
; carry the publisher's signature (SmartScreen shows the setup's).

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z lifeline-console.iss
#endif
#define Root "..\.."

[Setup]
; A fixed AppId: updates replace the installed version instead of adding a second one.
AppId={{5E1F6C2A-8A5B-4C5E-9F0B-3D1B6E2C7A41}
AppName=Lifeline Console
AppVersion={#AppVersion}
AppPublisher=The Lifeline project
AppPublisherURL=https://github.com/lifeline-support/lifeline
DefaultDirName={autopf}\Lifeline Console
DefaultGroupName=Lifeline
DisableProgramGroupPage=yes
; Per-user install without administrator rights by default; admins may install for all.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#Root}\dist
OutputBaseFilename=lifeline-console-{#AppVersion}-setup
SetupIconFile={#Root}\assets\lifeline.ico
UninstallDisplayIcon={app}\lifeline-console.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "french"; MessagesFile: "compiler:Languages\French.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\dist\lifeline-console\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Lifeline Console"; Filename: "{app}\lifeline-console.exe"
Name: "{autodesktop}\Lifeline Console"; Filename: "{app}\lifeline-console.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\lifeline-console.exe"; Description: "{cm:LaunchProgram,Lifeline Console}"; Flags: nowait postinstall skipifsilent
