<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>AppletShell</name>
    <message>
        <source>{technician} has joined.</source>
        <translation>{technician} a rejoint la session.</translation>
    </message>
    <message>
        <source>You allowed {technician} to {action}.</source>
        <translation>Vous avez autorisé {technician} à {action}.</translation>
    </message>
    <message>
        <source>{technician} can no longer {action}.</source>
        <translation>{technician} ne peut plus {action}.</translation>
    </message>
    <message>
        <source>You did not allow {technician} to {action}.</source>
        <translation>Vous n’avez pas autorisé {technician} à {action}.</translation>
    </message>
</context>
<context>
    <name>ChatWindow</name>
    <message>
        <source>Chat with {technician}</source>
        <translation>Discussion avec {technician}</translation>
    </message>
    <message>
        <source>Write a message</source>
        <translation>Écrivez un message</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Envoyer</translation>
    </message>
    <message>
        <source>You</source>
        <translation>Vous</translation>
    </message>
</context>
<context>
    <name>CodeWindow</name>
    <message>
        <source>Lifeline remote support</source>
        <translation>Assistance à distance Lifeline</translation>
    </message>
    <message>
        <source>Enter the code your technician gave you</source>
        <translation>Saisissez le code donné par votre technicien</translation>
    </message>
    <message>
        <source>Your technician will ask before seeing or doing anything on this computer.</source>
        <translation>Votre technicien vous demandera votre accord avant de voir ou de faire quoi que ce soit sur cet ordinateur.</translation>
    </message>
    <message>
        <source>Session code</source>
        <translation>Code de session</translation>
    </message>
    <message>
        <source>Connect</source>
        <translation>Se connecter</translation>
    </message>
</context>
<context>
    <name>PermissionPrompt</name>
    <message>
        <source>Lifeline: permission request</source>
        <translation>Lifeline : demande d’autorisation</translation>
    </message>
    <message>
        <source>If you did not expect this request, choose Deny.</source>
        <translation>Si vous n’attendiez pas cette demande, choisissez Refuser.</translation>
    </message>
    <message>
        <source>&amp;Deny</source>
        <translation>&amp;Refuser</translation>
    </message>
    <message>
        <source>&amp;Allow</source>
        <translation>&amp;Autoriser</translation>
    </message>
    <message>
        <source>Denied automatically in {seconds} s</source>
        <translation>Refus automatique dans {seconds} s</translation>
    </message>
</context>
<context>
    <name>PublisherLabel</name>
    <message>
        <source>Published by {name} (checked by {system})</source>
        <translation>Publié par {name} (vérifié par {system})</translation>
    </message>
    <message>
        <source>{system} checked the digital signature of this program: it is the copy {name} published, unchanged.</source>
        <translation>{system} a vérifié la signature numérique de ce programme : c’est bien la copie publiée par {name}, sans modification.</translation>
    </message>
</context>
<context>
    <name>ScreenIndicator</name>
    <message>
        <source>{technician} is controlling this computer</source>
        <translation>{technician} contrôle cet ordinateur</translation>
    </message>
    <message>
        <source>{technician} can see your screen</source>
        <translation>{technician} voit votre écran</translation>
    </message>
</context>
<context>
    <name>SessionWindow</name>
    <message>
        <source>Lifeline remote support</source>
        <translation>Assistance à distance Lifeline</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <source>To take back control at any moment, press {hotkey}.</source>
        <translation>Pour reprendre le contrôle à tout moment, appuyez sur {hotkey}.</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>&amp;Discussion</translation>
    </message>
    <message>
        <source>&amp;End session</source>
        <translation>&amp;Terminer la session</translation>
    </message>
    <message>
        <source>Waiting for your technician…</source>
        <translation>En attente de votre technicien…</translation>
    </message>
    <message>
        <source>● This session is recorded: {technician}&apos;s organisation records what they see of your screen.</source>
        <translation>● Cette session est enregistrée : l&apos;organisation de {technician} garde une vidéo de ce qui est vu de votre écran.</translation>
    </message>
    <message>
        <source>{technician} has joined</source>
        <translation>{technician} a rejoint la session</translation>
    </message>
    <message>
        <source>Security code {code}</source>
        <translation>Code de sécurité {code}</translation>
    </message>
    <message>
        <source>Your technician sees the same code. If they read you a different one, end the session.</source>
        <translation>Votre technicien voit le même code. S’il vous en lit un autre, terminez la session.</translation>
    </message>
    <message>
        <source>What {technician} can do now</source>
        <translation>Ce que {technician} peut faire maintenant</translation>
    </message>
    <message>
        <source>Nothing yet. {technician} must ask you before doing anything.</source>
        <translation>Rien pour l’instant. {technician} doit vous demander votre accord avant toute action.</translation>
    </message>
    <message>
        <source>Revoke</source>
        <translation>Retirer</translation>
    </message>
    <message>
        <source>Revoke: {right}</source>
        <translation>Retirer : {right}</translation>
    </message>
</context>
<context>
    <name>Wording</name>
    <message>
        <source>see your screen</source>
        <extracomment>&quot;&lt;technician&gt; wants to …&quot;</extracomment>
        <translation>voir votre écran</translation>
    </message>
    <message>
        <source>see your screen and control your mouse and keyboard</source>
        <translation>voir votre écran et contrôler votre souris et votre clavier</translation>
    </message>
    <message>
        <source>browse and transfer your files</source>
        <translation>parcourir et transférer vos fichiers</translation>
    </message>
    <message>
        <source>see information about this computer</source>
        <translation>voir les informations de cet ordinateur</translation>
    </message>
    <message>
        <source>share your clipboard</source>
        <translation>partager votre presse-papiers</translation>
    </message>
    <message>
        <source>See your screen</source>
        <extracomment>A line of the status panel: what is granted right now.</extracomment>
        <translation>Voir votre écran</translation>
    </message>
    <message>
        <source>Control your mouse and keyboard</source>
        <translation>Contrôler votre souris et votre clavier</translation>
    </message>
    <message>
        <source>Browse and transfer your files</source>
        <translation>Parcourir et transférer vos fichiers</translation>
    </message>
    <message>
        <source>See information about this computer</source>
        <translation>Voir les informations de cet ordinateur</translation>
    </message>
    <message>
        <source>Share your clipboard</source>
        <translation>Partager votre presse-papiers</translation>
    </message>
    <message>
        <source>{n} KB</source>
        <extracomment>File sizes, each a thousand times the one before.</extracomment>
        <translation>{n} Ko</translation>
    </message>
    <message>
        <source>{n} MB</source>
        <translation>{n} Mo</translation>
    </message>
    <message>
        <source>{n} GB</source>
        <translation>{n} Go</translation>
    </message>
    <message>
        <source>{n} TB</source>
        <translation>{n} To</translation>
    </message>
    <message>
        <source>To let your technician see your screen, open System Settings → Privacy &amp; Security → Screen Recording, turn on Lifeline, then quit Lifeline and open it again.</source>
        <translation>Pour que votre technicien puisse voir votre écran, ouvrez Réglages Système → Confidentialité et sécurité → Enregistrement de l’écran, activez Lifeline, puis quittez Lifeline et rouvrez-le.</translation>
    </message>
    <message>
        <source>To let your technician use your mouse and keyboard, open System Settings → Privacy &amp; Security → Accessibility, turn on Lifeline, then quit Lifeline and open it again.</source>
        <translation>Pour que votre technicien puisse utiliser votre souris et votre clavier, ouvrez Réglages Système → Confidentialité et sécurité → Accessibilité, activez Lifeline, puis quittez Lifeline et rouvrez-le.</translation>
    </message>
    <message>
        <source>{technician} wants to {action}.</source>
        <translation>{technician} souhaite {action}.</translation>
    </message>
    <message>
        <source>{technician} asks for permission to do all of this for the rest of the session:</source>
        <translation>{technician} demande l’autorisation de faire tout ceci jusqu’à la fin de la session :</translation>
    </message>
    <message>
        <source>The session ended because nothing happened for {minutes} min. Your technician can no longer see or control this computer. If you still need help, ask them for a new code.</source>
        <translation>La session s’est terminée car il ne s’est rien passé pendant {minutes} min. Votre technicien ne peut plus voir ni contrôler cet ordinateur. Si vous avez encore besoin d’aide, demandez-lui un nouveau code.</translation>
    </message>
    <message>
        <source>Your technician copied {name} ({size}) from this computer.</source>
        <translation>Votre technicien a copié {name} ({size}) depuis cet ordinateur.</translation>
    </message>
    <message>
        <source>Your technician put {name} ({size}) on this computer, in {folder}.</source>
        <translation>Votre technicien a déposé {name} ({size}) sur cet ordinateur, dans {folder}.</translation>
    </message>
    <message>
        <source>{n} bytes</source>
        <translation>{n} octets</translation>
    </message>
    <message>
        <source>.</source>
        <extracomment>The decimal separator: &quot;,&quot; in French.</extracomment>
        <translation>,</translation>
    </message>
</context>
</TS>
