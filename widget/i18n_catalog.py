"""Translations of the no-JavaScript page's words and field messages, by language."""

from __future__ import annotations

FIELD_MESSAGES: dict[str, dict[str, str]] = {
    "de": {
        "Comments are closed.": "Die Kommentare sind geschlossen.",
        "Owner": "Betreiber",
        "Moderator": "Moderator",
        "Enter your name.": "Geben Sie Ihren Namen ein.",
        "Enter your email address.": "Geben Sie Ihre E-Mail-Adresse ein.",
        "Enter a valid email address.": "Geben Sie eine gültige E-Mail-Adresse ein.",
        "Write a comment.": "Schreiben Sie einen Kommentar.",
        "Must be a single line.": "Darf nur eine Zeile lang sein.",
        "Contains characters that are not allowed.": "Enthält unzulässige Zeichen.",
        "Must be an http:// or https:// address.": "Muss eine http://- oder https://-Adresse sein.",
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Eine Webadresse darf keine Leerzeichen, Anführungszeichen oder spitzen Klammern "
            "enthalten."
        ),
        "Enter a valid web address.": "Geben Sie eine gültige Webadresse ein.",
        "This email address contains characters that are not allowed.": (
            "Diese E-Mail-Adresse enthält unzulässige Zeichen."
        ),
        "This email address cannot receive mail safely; use another.": (
            "An diese E-Mail-Adresse kann nicht sicher zugestellt werden; verwenden Sie bitte eine "
            "andere."
        ),
        "The comment you reply to is not in this thread.": (
            "Der Kommentar, auf den Sie antworten, gehört nicht zu dieser Diskussion."
        ),
        "This field is required.": "Dieses Feld ist erforderlich.",
        "Field must be between 1 and 80 characters long.": (
            "Das Feld muss zwischen 1 und 80 Zeichen lang sein."
        ),
        "Field cannot be longer than 254 characters.": (
            "Das Feld darf höchstens 254 Zeichen lang sein."
        ),
        "Field cannot be longer than 500 characters.": (
            "Das Feld darf höchstens 500 Zeichen lang sein."
        ),
        "Field must be between 1 and 10000 characters long.": (
            "Das Feld muss zwischen 1 und 10.000 Zeichen lang sein."
        ),
        "Thanks! Your comment is awaiting moderation.": (
            "Danke! Ihr Kommentar wartet auf Freischaltung."
        ),
        "Your comment is published.": "Ihr Kommentar ist veröffentlicht.",
        "Post comment": "Kommentar senden",
        "Reply": "Antworten",
        "Leave a comment": "Kommentar schreiben",
        "Comments": "Kommentare",
        "Name": "Name",
        "Email": "E-Mail",
        "Website (optional)": "Website (optional)",
        "Comment": "Kommentar",
        "Your email address will not be published.": (
            "Ihre E-Mail-Adresse wird nicht veröffentlicht."
        ),
        "Notify me of new comments in this thread": (
            "Bei neuen Kommentaren in diesem Thema benachrichtigen"
        ),
        "Error:": "Fehler:",
        "There is a problem with your comment": "Mit Ihrem Kommentar gibt es ein Problem",
        "More comments": "Weitere Kommentare",
        "First comments": "Erste Kommentare",
        "No comments yet. Start the conversation.": (
            "Noch keine Kommentare. Schreiben Sie den ersten."
        ),
        "Awaiting moderation": "Wartet auf Freischaltung",
    },
    "fr": {
        "Comments are closed.": "Les commentaires sont fermés.",
        "Owner": "Propriétaire",
        "Moderator": "Modérateur",
        "Enter your name.": "Saisissez votre nom.",
        "Enter your email address.": "Saisissez votre adresse e-mail.",
        "Enter a valid email address.": "Saisissez une adresse e-mail valide.",
        "Write a comment.": "Écrivez un commentaire.",
        "Must be a single line.": "Doit tenir sur une seule ligne.",
        "Contains characters that are not allowed.": "Contient des caractères non autorisés.",
        "Must be an http:// or https:// address.": "Doit être une adresse http:// ou https://.",
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Une adresse web ne peut contenir ni espaces, ni guillemets, ni chevrons."
        ),
        "Enter a valid web address.": "Saisissez une adresse web valide.",
        "This email address contains characters that are not allowed.": (
            "Cette adresse e-mail contient des caractères non autorisés."
        ),
        "This email address cannot receive mail safely; use another.": (
            "Cette adresse e-mail ne peut pas recevoir de messages en toute sécurité\u202f; "
            "utilisez-en une autre."
        ),
        "The comment you reply to is not in this thread.": (
            "Le commentaire auquel vous répondez ne fait pas partie de cette discussion."
        ),
        "This field is required.": "Ce champ est obligatoire.",
        "Field must be between 1 and 80 characters long.": (
            "Le champ doit contenir entre 1 et 80 caractères."
        ),
        "Field cannot be longer than 254 characters.": (
            "Le champ ne peut pas dépasser 254 caractères."
        ),
        "Field cannot be longer than 500 characters.": (
            "Le champ ne peut pas dépasser 500 caractères."
        ),
        "Field must be between 1 and 10000 characters long.": (
            "Le champ doit contenir entre 1 et 10\u202f000 caractères."
        ),
        "Thanks! Your comment is awaiting moderation.": (
            "Merci\u202f! Votre commentaire est en attente de modération."
        ),
        "Your comment is published.": "Votre commentaire est publié.",
        "Post comment": "Publier le commentaire",
        "Reply": "Répondre",
        "Leave a comment": "Laisser un commentaire",
        "Comments": "Commentaires",
        "Name": "Nom",
        "Email": "E-mail",
        "Website (optional)": "Site web (facultatif)",
        "Comment": "Commentaire",
        "Your email address will not be published.": "Votre adresse e-mail ne sera pas publiée.",
        "Notify me of new comments in this thread": (
            "Me prévenir des nouveaux commentaires de cette discussion"
        ),
        "Error:": "Erreur\xa0:",
        "There is a problem with your comment": "Votre commentaire contient une erreur",
        "More comments": "Plus de commentaires",
        "First comments": "Premiers commentaires",
        "No comments yet. Start the conversation.": (
            "Pas encore de commentaire. Lancez la discussion."
        ),
        "Awaiting moderation": "En attente de modération",
    },
    "es": {
        "Comments are closed.": "Los comentarios están cerrados.",
        "Owner": "Propietario",
        "Moderator": "Moderador",
        "Enter your name.": "Introduzca su nombre.",
        "Enter your email address.": "Introduzca su dirección de correo electrónico.",
        "Enter a valid email address.": "Introduzca una dirección de correo electrónico válida.",
        "Write a comment.": "Escriba un comentario.",
        "Must be a single line.": "Debe ocupar una sola línea.",
        "Contains characters that are not allowed.": "Contiene caracteres no permitidos.",
        "Must be an http:// or https:// address.": "Debe ser una dirección http:// o https://.",
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Una dirección web no puede contener espacios, comillas ni corchetes angulares."
        ),
        "Enter a valid web address.": "Introduzca una dirección web válida.",
        "This email address contains characters that are not allowed.": (
            "Esta dirección de correo electrónico contiene caracteres no permitidos."
        ),
        "This email address cannot receive mail safely; use another.": (
            "Esta dirección de correo electrónico no puede recibir correo de forma segura; use "
            "otra."
        ),
        "The comment you reply to is not in this thread.": (
            "El comentario al que responde no está en este hilo."
        ),
        "This field is required.": "Este campo es obligatorio.",
        "Field must be between 1 and 80 characters long.": (
            "El campo debe tener entre 1 y 80 caracteres."
        ),
        "Field cannot be longer than 254 characters.": (
            "El campo no puede tener más de 254 caracteres."
        ),
        "Field cannot be longer than 500 characters.": (
            "El campo no puede tener más de 500 caracteres."
        ),
        "Field must be between 1 and 10000 characters long.": (
            "El campo debe tener entre 1 y 10\xa0000 caracteres."
        ),
        "Thanks! Your comment is awaiting moderation.": (
            "¡Gracias! Su comentario está pendiente de moderación."
        ),
        "Your comment is published.": "Su comentario se ha publicado.",
        "Post comment": "Publicar comentario",
        "Reply": "Responder",
        "Leave a comment": "Deje un comentario",
        "Comments": "Comentarios",
        "Name": "Nombre",
        "Email": "Correo electrónico",
        "Website (optional)": "Sitio web (opcional)",
        "Comment": "Comentario",
        "Your email address will not be published.": "Su correo electrónico no se publicará.",
        "Notify me of new comments in this thread": "Avisarme de nuevos comentarios en este hilo",
        "Error:": "Error:",
        "There is a problem with your comment": "Hay un problema con su comentario",
        "More comments": "Más comentarios",
        "First comments": "Primeros comentarios",
        "No comments yet. Start the conversation.": (
            "Aún no hay comentarios. Inicie la conversación."
        ),
        "Awaiting moderation": "Pendiente de moderación",
    },
    "ar": {
        "Comments are closed.": "التعليقات مغلقة.",
        "Owner": "المالك",
        "Moderator": "مشرف",
        "Enter your name.": "أدخل اسمك.",
        "Enter your email address.": "أدخل عنوان بريدك الإلكتروني.",
        "Enter a valid email address.": "أدخل عنوان بريد إلكتروني صالحًا.",
        "Write a comment.": "اكتب تعليقًا.",
        "Must be a single line.": "يجب أن يكون في سطر واحد.",
        "Contains characters that are not allowed.": "يحتوي على أحرف غير مسموح بها.",
        "Must be an http:// or https:// address.": (
            "يجب أن يكون عنوانًا يبدأ بـ http:// أو https://."
        ),
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "لا يمكن أن يحتوي عنوان الويب على مسافات أو علامات اقتباس أو أقواس زاوية."
        ),
        "Enter a valid web address.": "أدخل عنوان ويب صالحًا.",
        "This email address contains characters that are not allowed.": (
            "يحتوي عنوان البريد الإلكتروني هذا على أحرف غير مسموح بها."
        ),
        "This email address cannot receive mail safely; use another.": (
            "لا يمكن لعنوان البريد الإلكتروني هذا استقبال الرسائل بأمان؛ استخدم عنوانًا آخر."
        ),
        "The comment you reply to is not in this thread.": (
            "التعليق الذي ترد عليه ليس في هذا النقاش."
        ),
        "This field is required.": "هذا الحقل مطلوب.",
        "Field must be between 1 and 80 characters long.": (
            "يجب أن يتراوح طول الحقل بين 1 و80 حرفًا."
        ),
        "Field cannot be longer than 254 characters.": "لا يمكن أن يتجاوز طول الحقل 254 حرفًا.",
        "Field cannot be longer than 500 characters.": "لا يمكن أن يتجاوز طول الحقل 500 حرف.",
        "Field must be between 1 and 10000 characters long.": (
            "يجب أن يتراوح طول الحقل بين 1 و10000 حرف."
        ),
        "Thanks! Your comment is awaiting moderation.": "شكرًا! تعليقك بانتظار المراجعة.",
        "Your comment is published.": "تم نشر تعليقك.",
        "Post comment": "نشر التعليق",
        "Reply": "رد",
        "Leave a comment": "اترك تعليقًا",
        "Comments": "التعليقات",
        "Name": "الاسم",
        "Email": "البريد الإلكتروني",
        "Website (optional)": "الموقع (اختياري)",
        "Comment": "التعليق",
        "Your email address will not be published.": "لن يتم نشر بريدك الإلكتروني.",
        "Notify me of new comments in this thread": "أعلمني بالتعليقات الجديدة في هذا النقاش",
        "Error:": "خطأ:",
        "There is a problem with your comment": "توجد مشكلة في تعليقك",
        "More comments": "المزيد من التعليقات",
        "First comments": "التعليقات الأولى",
        "No comments yet. Start the conversation.": "لا توجد تعليقات بعد. ابدأ النقاش.",
        "Awaiting moderation": "بانتظار المراجعة",
    },
    "it": {
        "Comments are closed.": "I commenti sono chiusi.",
        "Owner": "Proprietario",
        "Moderator": "Moderatore",
        "Enter your name.": "Inserisci il tuo nome.",
        "Enter your email address.": "Inserisci il tuo indirizzo email.",
        "Enter a valid email address.": "Inserisci un indirizzo email valido.",
        "Write a comment.": "Scrivi un commento.",
        "Must be a single line.": "Deve stare su una sola riga.",
        "Contains characters that are not allowed.": "Contiene caratteri non consentiti.",
        "Must be an http:// or https:// address.": "Deve essere un indirizzo http:// o https://.",
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Un indirizzo web non può contenere spazi, virgolette o parentesi angolari."
        ),
        "Enter a valid web address.": "Inserisci un indirizzo web valido.",
        "This email address contains characters that are not allowed.": (
            "Questo indirizzo email contiene caratteri non consentiti."
        ),
        "This email address cannot receive mail safely; use another.": (
            "Questo indirizzo email non può ricevere posta in modo sicuro; usane un altro."
        ),
        "The comment you reply to is not in this thread.": (
            "Il commento a cui rispondi non fa parte di questa discussione."
        ),
        "This field is required.": "Questo campo è obbligatorio.",
        "Field must be between 1 and 80 characters long.": (
            "Il campo deve contenere da 1 a 80 caratteri."
        ),
        "Field cannot be longer than 254 characters.": "Il campo non può superare i 254 caratteri.",
        "Field cannot be longer than 500 characters.": "Il campo non può superare i 500 caratteri.",
        "Field must be between 1 and 10000 characters long.": (
            "Il campo deve contenere da 1 a 10.000 caratteri."
        ),
        "Thanks! Your comment is awaiting moderation.": (
            "Grazie! Il tuo commento è in attesa di moderazione."
        ),
        "Your comment is published.": "Il tuo commento è stato pubblicato.",
        "Post comment": "Pubblica il commento",
        "Reply": "Rispondi",
        "Leave a comment": "Lascia un commento",
        "Comments": "Commenti",
        "Name": "Nome",
        "Email": "Email",
        "Website (optional)": "Sito web (facoltativo)",
        "Comment": "Commento",
        "Your email address will not be published.": "Il tuo indirizzo email non sarà pubblicato.",
        "Notify me of new comments in this thread": (
            "Avvisami dei nuovi commenti in questa discussione"
        ),
        "Error:": "Errore:",
        "There is a problem with your comment": "C’è un problema con il tuo commento",
        "More comments": "Altri commenti",
        "First comments": "Primi commenti",
        "No comments yet. Start the conversation.": (
            "Ancora nessun commento. Inizia la discussione."
        ),
        "Awaiting moderation": "In attesa di moderazione",
    },
    "nl": {
        "Comments are closed.": "Reageren is gesloten.",
        "Owner": "Eigenaar",
        "Moderator": "Moderator",
        "Enter your name.": "Vul je naam in.",
        "Enter your email address.": "Vul je e-mailadres in.",
        "Enter a valid email address.": "Vul een geldig e-mailadres in.",
        "Write a comment.": "Schrijf een reactie.",
        "Must be a single line.": "Moet op één regel staan.",
        "Contains characters that are not allowed.": "Bevat tekens die niet zijn toegestaan.",
        "Must be an http:// or https:// address.": "Moet een http://- of https://-adres zijn.",
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Een webadres mag geen spaties, aanhalingstekens of punthaken bevatten."
        ),
        "Enter a valid web address.": "Vul een geldig webadres in.",
        "This email address contains characters that are not allowed.": (
            "Dit e-mailadres bevat tekens die niet zijn toegestaan."
        ),
        "This email address cannot receive mail safely; use another.": (
            "Dit e-mailadres kan niet veilig e-mail ontvangen; gebruik een ander adres."
        ),
        "The comment you reply to is not in this thread.": (
            "De reactie waarop je reageert, hoort niet bij dit gesprek."
        ),
        "This field is required.": "Dit veld is verplicht.",
        "Field must be between 1 and 80 characters long.": (
            "Het veld moet tussen 1 en 80 tekens lang zijn."
        ),
        "Field cannot be longer than 254 characters.": (
            "Het veld mag niet langer zijn dan 254 tekens."
        ),
        "Field cannot be longer than 500 characters.": (
            "Het veld mag niet langer zijn dan 500 tekens."
        ),
        "Field must be between 1 and 10000 characters long.": (
            "Het veld moet tussen 1 en 10.000 tekens lang zijn."
        ),
        "Thanks! Your comment is awaiting moderation.": "Bedankt! Je reactie wacht op moderatie.",
        "Your comment is published.": "Je reactie is geplaatst.",
        "Post comment": "Reactie plaatsen",
        "Reply": "Reageren",
        "Leave a comment": "Laat een reactie achter",
        "Comments": "Reacties",
        "Name": "Naam",
        "Email": "E-mail",
        "Website (optional)": "Website (optioneel)",
        "Comment": "Reactie",
        "Your email address will not be published.": "Je e-mailadres wordt niet gepubliceerd.",
        "Notify me of new comments in this thread": (
            "Stuur mij een melding bij nieuwe reacties in dit gesprek"
        ),
        "Error:": "Fout:",
        "There is a problem with your comment": "Er is een probleem met je reactie",
        "More comments": "Meer reacties",
        "First comments": "Eerste reacties",
        "No comments yet. Start the conversation.": "Nog geen reacties. Begin het gesprek.",
        "Awaiting moderation": "Wacht op moderatie",
    },
    "pt": {
        "Comments are closed.": "Os comentários estão fechados.",
        "Owner": "Proprietário",
        "Moderator": "Moderador",
        "Enter your name.": "Informe seu nome.",
        "Enter your email address.": "Informe seu endereço de e-mail.",
        "Enter a valid email address.": "Informe um endereço de e-mail válido.",
        "Write a comment.": "Escreva um comentário.",
        "Must be a single line.": "Deve ocupar uma única linha.",
        "Contains characters that are not allowed.": "Contém caracteres não permitidos.",
        "Must be an http:// or https:// address.": "Deve ser um endereço http:// ou https://.",
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Um endereço web não pode conter espaços, aspas nem colchetes angulares."
        ),
        "Enter a valid web address.": "Informe um endereço web válido.",
        "This email address contains characters that are not allowed.": (
            "Este endereço de e-mail contém caracteres não permitidos."
        ),
        "This email address cannot receive mail safely; use another.": (
            "Este endereço de e-mail não pode receber mensagens com segurança; use outro."
        ),
        "The comment you reply to is not in this thread.": (
            "O comentário ao qual você está respondendo não faz parte desta conversa."
        ),
        "This field is required.": "Este campo é obrigatório.",
        "Field must be between 1 and 80 characters long.": (
            "O campo deve ter entre 1 e 80 caracteres."
        ),
        "Field cannot be longer than 254 characters.": (
            "O campo não pode ter mais de 254 caracteres."
        ),
        "Field cannot be longer than 500 characters.": (
            "O campo não pode ter mais de 500 caracteres."
        ),
        "Field must be between 1 and 10000 characters long.": (
            "O campo deve ter entre 1 e 10.000 caracteres."
        ),
        "Thanks! Your comment is awaiting moderation.": (
            "Obrigado! Seu comentário está aguardando moderação."
        ),
        "Your comment is published.": "Seu comentário foi publicado.",
        "Post comment": "Publicar comentário",
        "Reply": "Responder",
        "Leave a comment": "Deixe um comentário",
        "Comments": "Comentários",
        "Name": "Nome",
        "Email": "E-mail",
        "Website (optional)": "Site (opcional)",
        "Comment": "Comentário",
        "Your email address will not be published.": "Seu endereço de e-mail não será publicado.",
        "Notify me of new comments in this thread": (
            "Avise-me sobre novos comentários nesta conversa"
        ),
        "Error:": "Erro:",
        "There is a problem with your comment": "Há um problema com seu comentário",
        "More comments": "Mais comentários",
        "First comments": "Primeiros comentários",
        "No comments yet. Start the conversation.": "Ainda não há comentários. Comece a conversa.",
        "Awaiting moderation": "Aguardando moderação",
    },
    "pl": {
        "Comments are closed.": "Komentarze są zamknięte.",
        "Owner": "Właściciel",
        "Moderator": "Moderator",
        "Enter your name.": "Podaj swoje imię.",
        "Enter your email address.": "Podaj swój adres e-mail.",
        "Enter a valid email address.": "Podaj prawidłowy adres e-mail.",
        "Write a comment.": "Napisz komentarz.",
        "Must be a single line.": "Musi mieścić się w jednym wierszu.",
        "Contains characters that are not allowed.": "Zawiera niedozwolone znaki.",
        "Must be an http:// or https:// address.": "Musi to być adres http:// lub https://.",
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Adres internetowy nie może zawierać spacji, cudzysłowów ani nawiasów ostrych."
        ),
        "Enter a valid web address.": "Podaj prawidłowy adres internetowy.",
        "This email address contains characters that are not allowed.": (
            "Ten adres e-mail zawiera niedozwolone znaki."
        ),
        "This email address cannot receive mail safely; use another.": (
            "Na ten adres e-mail nie można bezpiecznie wysyłać wiadomości; użyj innego."
        ),
        "The comment you reply to is not in this thread.": (
            "Komentarz, na który odpowiadasz, nie należy do tej dyskusji."
        ),
        "This field is required.": "To pole jest wymagane.",
        "Field must be between 1 and 80 characters long.": "Pole musi mieć od 1 do 80 znaków.",
        "Field cannot be longer than 254 characters.": "Pole może mieć najwyżej 254 znaki.",
        "Field cannot be longer than 500 characters.": "Pole może mieć najwyżej 500 znaków.",
        "Field must be between 1 and 10000 characters long.": (
            "Pole musi mieć od 1 do 10\xa0000 znaków."
        ),
        "Thanks! Your comment is awaiting moderation.": (
            "Dziękujemy! Twój komentarz oczekuje na moderację."
        ),
        "Your comment is published.": "Twój komentarz został opublikowany.",
        "Post comment": "Opublikuj komentarz",
        "Reply": "Odpowiedz",
        "Leave a comment": "Zostaw komentarz",
        "Comments": "Komentarze",
        "Name": "Imię",
        "Email": "E-mail",
        "Website (optional)": "Strona internetowa (opcjonalnie)",
        "Comment": "Komentarz",
        "Your email address will not be published.": "Twój adres e-mail nie zostanie opublikowany.",
        "Notify me of new comments in this thread": (
            "Powiadamiaj mnie o nowych komentarzach w tej dyskusji"
        ),
        "Error:": "Błąd:",
        "There is a problem with your comment": "Z Twoim komentarzem jest problem",
        "More comments": "Więcej komentarzy",
        "First comments": "Pierwsze komentarze",
        "No comments yet. Start the conversation.": "Brak komentarzy. Rozpocznij dyskusję.",
        "Awaiting moderation": "Oczekuje na moderację",
    },
    "ru": {
        "Comments are closed.": "Комментарии закрыты.",
        "Owner": "Владелец",
        "Moderator": "Модератор",
        "Enter your name.": "Введите ваше имя.",
        "Enter your email address.": "Введите адрес электронной почты.",
        "Enter a valid email address.": "Введите корректный адрес электронной почты.",
        "Write a comment.": "Напишите комментарий.",
        "Must be a single line.": "Допускается только одна строка.",
        "Contains characters that are not allowed.": "Содержит недопустимые символы.",
        "Must be an http:// or https:// address.": (
            "Адрес должен начинаться с http:// или https://."
        ),
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Веб-адрес не может содержать пробелы, кавычки или угловые скобки."
        ),
        "Enter a valid web address.": "Введите корректный веб-адрес.",
        "This email address contains characters that are not allowed.": (
            "Этот адрес электронной почты содержит недопустимые символы."
        ),
        "This email address cannot receive mail safely; use another.": (
            "На этот адрес электронной почты нельзя безопасно отправлять письма; укажите другой."
        ),
        "The comment you reply to is not in this thread.": (
            "Комментарий, на который вы отвечаете, не относится к этому обсуждению."
        ),
        "This field is required.": "Это поле обязательно для заполнения.",
        "Field must be between 1 and 80 characters long.": (
            "Длина поля должна быть от 1 до 80 символов."
        ),
        "Field cannot be longer than 254 characters.": "Длина поля не может превышать 254 символа.",
        "Field cannot be longer than 500 characters.": (
            "Длина поля не может превышать 500 символов."
        ),
        "Field must be between 1 and 10000 characters long.": (
            "Длина поля должна быть от 1 до 10\xa0000 символов."
        ),
        "Thanks! Your comment is awaiting moderation.": (
            "Спасибо! Ваш комментарий ожидает модерации."
        ),
        "Your comment is published.": "Ваш комментарий опубликован.",
        "Post comment": "Отправить комментарий",
        "Reply": "Ответить",
        "Leave a comment": "Оставьте комментарий",
        "Comments": "Комментарии",
        "Name": "Имя",
        "Email": "Эл. почта",
        "Website (optional)": "Сайт (необязательно)",
        "Comment": "Комментарий",
        "Your email address will not be published.": (
            "Ваш адрес электронной почты не будет опубликован."
        ),
        "Notify me of new comments in this thread": (
            "Уведомлять меня о новых комментариях в этом обсуждении"
        ),
        "Error:": "Ошибка:",
        "There is a problem with your comment": "С вашим комментарием возникла проблема",
        "More comments": "Ещё комментарии",
        "First comments": "Первые комментарии",
        "No comments yet. Start the conversation.": "Комментариев пока нет. Начните обсуждение.",
        "Awaiting moderation": "Ожидает модерации",
    },
    "uk": {
        "Comments are closed.": "Коментарі закрито.",
        "Owner": "Власник",
        "Moderator": "Модератор",
        "Enter your name.": "Введіть ваше ім’я.",
        "Enter your email address.": "Введіть адресу електронної пошти.",
        "Enter a valid email address.": "Введіть коректну адресу електронної пошти.",
        "Write a comment.": "Напишіть коментар.",
        "Must be a single line.": "Допускається лише один рядок.",
        "Contains characters that are not allowed.": "Містить недозволені символи.",
        "Must be an http:// or https:// address.": "Адреса має починатися з http:// або https://.",
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Вебадреса не може містити пробілів, лапок або кутових дужок."
        ),
        "Enter a valid web address.": "Введіть коректну вебадресу.",
        "This email address contains characters that are not allowed.": (
            "Ця адреса електронної пошти містить недозволені символи."
        ),
        "This email address cannot receive mail safely; use another.": (
            "На цю адресу електронної пошти не можна безпечно надсилати листи; вкажіть іншу."
        ),
        "The comment you reply to is not in this thread.": (
            "Коментар, на який ви відповідаєте, не належить до цього обговорення."
        ),
        "This field is required.": "Це поле обов’язкове.",
        "Field must be between 1 and 80 characters long.": (
            "Довжина поля має бути від 1 до 80 символів."
        ),
        "Field cannot be longer than 254 characters.": (
            "Довжина поля не може перевищувати 254 символи."
        ),
        "Field cannot be longer than 500 characters.": (
            "Довжина поля не може перевищувати 500 символів."
        ),
        "Field must be between 1 and 10000 characters long.": (
            "Довжина поля має бути від 1 до 10\xa0000 символів."
        ),
        "Thanks! Your comment is awaiting moderation.": (
            "Дякуємо! Ваш коментар очікує на модерацію."
        ),
        "Your comment is published.": "Ваш коментар опубліковано.",
        "Post comment": "Надіслати коментар",
        "Reply": "Відповісти",
        "Leave a comment": "Залиште коментар",
        "Comments": "Коментарі",
        "Name": "Ім’я",
        "Email": "Ел. пошта",
        "Website (optional)": "Сайт (необов’язково)",
        "Comment": "Коментар",
        "Your email address will not be published.": (
            "Ваша адреса електронної пошти не буде опублікована."
        ),
        "Notify me of new comments in this thread": (
            "Повідомляти мене про нові коментарі в цьому обговоренні"
        ),
        "Error:": "Помилка:",
        "There is a problem with your comment": "З вашим коментарем виникла проблема",
        "More comments": "Ще коментарі",
        "First comments": "Перші коментарі",
        "No comments yet. Start the conversation.": "Коментарів ще немає. Почніть обговорення.",
        "Awaiting moderation": "Очікує на модерацію",
    },
    "ja": {
        "Comments are closed.": "コメントの受け付けは終了しました。",
        "Owner": "オーナー",
        "Moderator": "モデレーター",
        "Enter your name.": "名前を入力してください。",
        "Enter your email address.": "メールアドレスを入力してください。",
        "Enter a valid email address.": "有効なメールアドレスを入力してください。",
        "Write a comment.": "コメントを入力してください。",
        "Must be a single line.": "1行で入力してください。",
        "Contains characters that are not allowed.": "使用できない文字が含まれています。",
        "Must be an http:// or https:// address.": (
            "http:// または https:// で始まるアドレスを入力してください。"
        ),
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "ウェブアドレスにスペース、引用符、山括弧は使用できません。"
        ),
        "Enter a valid web address.": "有効なウェブアドレスを入力してください。",
        "This email address contains characters that are not allowed.": (
            "このメールアドレスには使用できない文字が含まれています。"
        ),
        "This email address cannot receive mail safely; use another.": (
            "このメールアドレスでは安全にメールを受信できません。別のアドレスを使用してください。"
        ),
        "The comment you reply to is not in this thread.": (
            "返信先のコメントはこのスレッドにありません。"
        ),
        "This field is required.": "この項目は必須です。",
        "Field must be between 1 and 80 characters long.": "1～80文字で入力してください。",
        "Field cannot be longer than 254 characters.": "254文字以内で入力してください。",
        "Field cannot be longer than 500 characters.": "500文字以内で入力してください。",
        "Field must be between 1 and 10000 characters long.": "1～10,000文字で入力してください。",
        "Thanks! Your comment is awaiting moderation.": (
            "ありがとうございます。コメントは承認待ちです。"
        ),
        "Your comment is published.": "コメントが公開されました。",
        "Post comment": "コメントを投稿",
        "Reply": "返信",
        "Leave a comment": "コメントを書く",
        "Comments": "コメント",
        "Name": "名前",
        "Email": "メールアドレス",
        "Website (optional)": "ウェブサイト（任意）",
        "Comment": "コメント",
        "Your email address will not be published.": "メールアドレスが公開されることはありません。",
        "Notify me of new comments in this thread": (
            "このスレッドに新しいコメントがあったら通知する"
        ),
        "Error:": "エラー：",
        "There is a problem with your comment": "コメントに問題があります",
        "More comments": "さらにコメントを表示",
        "First comments": "最初のコメント",
        "No comments yet. Start the conversation.": (
            "まだコメントはありません。最初のコメントを投稿しましょう。"
        ),
        "Awaiting moderation": "承認待ち",
    },
    "zh": {
        "Comments are closed.": "评论已关闭。",
        "Owner": "站长",
        "Moderator": "版主",
        "Enter your name.": "请输入昵称。",
        "Enter your email address.": "请输入您的电子邮箱地址。",
        "Enter a valid email address.": "请输入有效的电子邮箱地址。",
        "Write a comment.": "请填写评论内容。",
        "Must be a single line.": "只能填写一行。",
        "Contains characters that are not allowed.": "包含不允许的字符。",
        "Must be an http:// or https:// address.": "必须是以 http:// 或 https:// 开头的地址。",
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "网址不能包含空格、引号或尖括号。"
        ),
        "Enter a valid web address.": "请输入有效的网址。",
        "This email address contains characters that are not allowed.": (
            "此电子邮箱地址包含不允许的字符。"
        ),
        "This email address cannot receive mail safely; use another.": (
            "此电子邮箱地址无法安全地接收邮件，请使用其他地址。"
        ),
        "The comment you reply to is not in this thread.": "您回复的评论不在此讨论中。",
        "This field is required.": "此字段为必填项。",
        "Field must be between 1 and 80 characters long.": "此字段长度必须在 1 到 80 个字符之间。",
        "Field cannot be longer than 254 characters.": "此字段不能超过 254 个字符。",
        "Field cannot be longer than 500 characters.": "此字段不能超过 500 个字符。",
        "Field must be between 1 and 10000 characters long.": (
            "此字段长度必须在 1 到 10000 个字符之间。"
        ),
        "Thanks! Your comment is awaiting moderation.": "谢谢！您的评论正在等待审核。",
        "Your comment is published.": "您的评论已发布。",
        "Post comment": "发表评论",
        "Reply": "回复",
        "Leave a comment": "留下评论",
        "Comments": "评论",
        "Name": "昵称",
        "Email": "电子邮箱",
        "Website (optional)": "网站（可选）",
        "Comment": "评论",
        "Your email address will not be published.": "您的电子邮箱地址不会被公开。",
        "Notify me of new comments in this thread": "此讨论有新评论时通知我",
        "Error:": "错误：",
        "There is a problem with your comment": "您的评论有问题",
        "More comments": "更多评论",
        "First comments": "最早的评论",
        "No comments yet. Start the conversation.": "暂无评论。来发表第一条评论吧。",
        "Awaiting moderation": "等待审核",
    },
    "tr": {
        "Comments are closed.": "Yorumlar kapatıldı.",
        "Owner": "Site sahibi",
        "Moderator": "Moderatör",
        "Enter your name.": "Adınızı girin.",
        "Enter your email address.": "E-posta adresinizi girin.",
        "Enter a valid email address.": "Geçerli bir e-posta adresi girin.",
        "Write a comment.": "Bir yorum yazın.",
        "Must be a single line.": "Tek satır olmalıdır.",
        "Contains characters that are not allowed.": "İzin verilmeyen karakterler içeriyor.",
        "Must be an http:// or https:// address.": (
            "http:// veya https:// ile başlayan bir adres olmalıdır."
        ),
        "A web address cannot contain spaces, quotes or angle brackets.": (
            "Web adresi boşluk, tırnak işareti veya açılı ayraç içeremez."
        ),
        "Enter a valid web address.": "Geçerli bir web adresi girin.",
        "This email address contains characters that are not allowed.": (
            "Bu e-posta adresi izin verilmeyen karakterler içeriyor."
        ),
        "This email address cannot receive mail safely; use another.": (
            "Bu e-posta adresine güvenli şekilde posta gönderilemez; başka bir adres kullanın."
        ),
        "The comment you reply to is not in this thread.": (
            "Yanıtladığınız yorum bu tartışmada değil."
        ),
        "This field is required.": "Bu alan zorunludur.",
        "Field must be between 1 and 80 characters long.": (
            "Alan 1 ile 80 karakter arasında olmalıdır."
        ),
        "Field cannot be longer than 254 characters.": "Alan en fazla 254 karakter olabilir.",
        "Field cannot be longer than 500 characters.": "Alan en fazla 500 karakter olabilir.",
        "Field must be between 1 and 10000 characters long.": (
            "Alan 1 ile 10.000 karakter arasında olmalıdır."
        ),
        "Thanks! Your comment is awaiting moderation.": "Teşekkürler! Yorumunuz onay bekliyor.",
        "Your comment is published.": "Yorumunuz yayımlandı.",
        "Post comment": "Yorum gönder",
        "Reply": "Yanıtla",
        "Leave a comment": "Yorum bırakın",
        "Comments": "Yorumlar",
        "Name": "Ad",
        "Email": "E-posta",
        "Website (optional)": "Web sitesi (isteğe bağlı)",
        "Comment": "Yorum",
        "Your email address will not be published.": "E-posta adresiniz yayımlanmayacak.",
        "Notify me of new comments in this thread": (
            "Bu tartışmadaki yeni yorumlardan beni haberdar et"
        ),
        "Error:": "Hata:",
        "There is a problem with your comment": "Yorumunuzla ilgili bir sorun var",
        "More comments": "Daha fazla yorum",
        "First comments": "İlk yorumlar",
        "No comments yet. Start the conversation.": "Henüz yorum yok. İlk yorumu siz yapın.",
        "Awaiting moderation": "Onay bekliyor",
    },
}


#: The page's own links and choices (the words above are its fields and messages).
_PAGE_WORDS: dict[str, tuple[str, ...]] = {
    # In the order of _PAGE_ENGLISH below.
    "de": (
        "Zurück zum Artikel",
        "Keine weiteren Kommentare.",
        "Dieses Feld leer lassen",
        "Atom-Feed dieser Diskussion",
        "Keine E-Mails",
        "Antworten auf meine Kommentare",
        "Jeden neuen Kommentar",
        "Eine tägliche Zusammenfassung",
        "[gelöscht]",
        "Antwort an {n}",
        "Abbrechen",
        "Seiten der Kommentare",
        "Nur Sie sehen diese, bis sie freigeschaltet sind.",
    ),
    "fr": (
        "Retour à l’article",
        "Il n’y a plus de commentaires.",
        "Laissez ce champ vide",
        "Flux Atom de cette discussion",
        "Aucun e-mail",
        "Les réponses à mes commentaires",
        "Chaque nouveau commentaire",
        "Un résumé quotidien",
        "[supprimé]",
        "Réponse à {n}",
        "Annuler",
        "Pages de commentaires",
        "Vous seul les voyez jusqu’à ce qu’un modérateur les approuve.",
    ),
    "es": (
        "Volver al artículo",
        "No hay más comentarios.",
        "Deje este campo vacío",
        "Feed Atom de este hilo",
        "Ningún correo",
        "Respuestas a mis comentarios",
        "Cada comentario nuevo",
        "Un resumen diario",
        "[eliminado]",
        "Respondiendo a {n}",
        "Cancelar",
        "Páginas de comentarios",
        "Solo usted los ve hasta que un moderador los apruebe.",
    ),
    "ar": (
        "العودة إلى المقال",
        "لا مزيد من التعليقات.",
        "اترك هذا الحقل فارغًا",
        "موجز Atom لهذا النقاش",
        "بلا رسائل بريد",
        "الردود على تعليقاتي",
        "كل تعليق جديد",
        "ملخص يومي",
        "[محذوف]",
        "الرد على {n}",
        "إلغاء",
        "صفحات التعليقات",
        "لا يراها غيرك حتى يوافق عليها مشرف.",
    ),
    "it": (
        "Torna all’articolo",
        "Non ci sono altri commenti.",
        "Lascia vuoto questo campo",
        "Feed Atom di questa discussione",
        "Nessuna email",
        "Risposte ai miei commenti",
        "Ogni nuovo commento",
        "Un riepilogo giornaliero",
        "[eliminato]",
        "Risposta a {n}",
        "Annulla",
        "Pagine di commenti",
        "Solo tu li vedi finché un moderatore non li approva.",
    ),
    "nl": (
        "Terug naar het artikel",
        "Geen reacties meer.",
        "Laat dit veld leeg",
        "Atom-feed van dit gesprek",
        "Geen e-mails",
        "Reacties op mijn berichten",
        "Elke nieuwe reactie",
        "Een dagelijks overzicht",
        "[verwijderd]",
        "Reactie op {n}",
        "Annuleren",
        "Pagina’s met reacties",
        "Alleen jij ziet deze tot een moderator ze goedkeurt.",
    ),
    "pt": (
        "Voltar ao artigo",
        "Não há mais comentários.",
        "Deixe este campo vazio",
        "Feed Atom desta conversa",
        "Nenhum e-mail",
        "Respostas aos meus comentários",
        "Cada novo comentário",
        "Um resumo diário",
        "[excluído]",
        "Respondendo a {n}",
        "Cancelar",
        "Páginas de comentários",
        "Só você os vê até que um moderador os aprove.",
    ),
    "pl": (
        "Wróć do artykułu",
        "Nie ma więcej komentarzy.",
        "Pozostaw to pole puste",
        "Kanał Atom tej dyskusji",
        "Bez e-maili",
        "Odpowiedzi na moje komentarze",
        "Każdy nowy komentarz",
        "Codzienne podsumowanie",
        "[usunięto]",
        "Odpowiadasz użytkownikowi {n}",
        "Anuluj",
        "Strony komentarzy",
        "Tylko Ty je widzisz, dopóki moderator ich nie zatwierdzi.",
    ),
    "ru": (
        "Вернуться к статье",
        "Больше комментариев нет.",
        "Оставьте это поле пустым",
        "Atom-лента этого обсуждения",
        "Без писем",
        "Ответы на мои комментарии",
        "Каждый новый комментарий",
        "Ежедневная сводка",
        "[удалено]",
        "Ответ пользователю {n}",
        "Отмена",
        "Страницы комментариев",
        "Их видите только вы, пока модератор их не одобрит.",
    ),
    "uk": (
        "Повернутися до статті",
        "Більше коментарів немає.",
        "Залиште це поле порожнім",
        "Atom-стрічка цього обговорення",
        "Без листів",
        "Відповіді на мої коментарі",
        "Кожен новий коментар",
        "Щоденний підсумок",
        "[видалено]",
        "Відповідь користувачу {n}",
        "Скасувати",
        "Сторінки коментарів",
        "Їх бачите лише ви, доки модератор їх не схвалить.",
    ),
    "ja": (
        "記事に戻る",
        "これ以上コメントはありません。",
        "この欄は空のままにしてください",
        "このスレッドの Atom フィード",
        "メールを受け取らない",
        "自分のコメントへの返信",
        "すべての新しいコメント",
        "1日1回のまとめ",
        "[削除済み]",
        "{n}さんへの返信",
        "キャンセル",
        "コメントのページ",
        "モデレーターが承認するまで、これらはあなたにしか表示されません。",
    ),
    "zh": (
        "返回文章",
        "没有更多评论了。",
        "请勿填写此栏",
        "此讨论的 Atom 订阅源",
        "不接收邮件",
        "对我评论的回复",
        "每条新评论",
        "每日摘要",
        "[已删除]",
        "正在回复 {n}",
        "取消",
        "评论分页",
        "在版主批准之前，只有您能看到这些内容。",
    ),
    "tr": (
        "Makaleye dön",
        "Başka yorum yok.",
        "Bu alanı boş bırakın",
        "Bu tartışmanın Atom akışı",
        "E-posta yok",
        "Yorumlarıma gelen yanıtlar",
        "Her yeni yorum",
        "Günlük özet",
        "[silindi]",
        "{n} kullanıcısına yanıt",
        "İptal",
        "Yorum sayfaları",
        "Bir moderatör onaylayana kadar bunları yalnızca siz görürsünüz.",
    ),
}
_PAGE_ENGLISH = (
    "Back to the article",
    "No more comments.",
    "Leave this empty",
    "Atom feed of this thread",
    "No emails",
    "Replies to my comments",
    "Every new comment",
    "A daily digest",
    "[deleted]",
    "Replying to {n}",
    "Cancel",
    "Pages of comments",
    "Only you see these until a moderator approves them.",
)
for _lang, _words in _PAGE_WORDS.items():
    FIELD_MESSAGES[_lang].update(zip(_PAGE_ENGLISH, _words, strict=True))
