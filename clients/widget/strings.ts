/// <reference lib="dom" />
// What the widget says, in the languages it speaks. The language is the one the page asks for (the widget's
// `data-language`, hCaptcha's and reCAPTCHA's `hl`, Turnstile's `language`), else the browser's first language
// the widget knows, else English. Questions and choices come from the dataset and are shown as written.

export interface Strings {
  header: string;
  verify: string;
  newChallenge: string;
  protectedBy: string;
  loading: string;
  checking: string;
  checkingAnswer: string;
  verified: string;
  verifiedThanks: string;
  wrong: string;
  answerEvery: string;
  expired: string;
  expiredRenewed: string;
  unreachable: string;
  unreachableRetry: string;
  unavailable: string;
  tooMany: (seconds: string) => string;
  imageFailed: (question: number) => string;
  imageFailedStatus: string;
  audioFailed: string;
  question: (index: number, count: number) => string;
  defaultPrompt: string;
  imageAlt: (question: number) => string;
  playAudio: string;
  playAudioLabel: (question: number) => string;
  textAlternative: string;
  gridLabel: (question: string) => string;
  cell: (cell: number, row: number, column: number) => string;
  answerLabel: (question: number) => string;
}

const en: Strings = {
  header: "Please answer to show you are human.",
  verify: "Verify",
  newChallenge: "↻ New challenge",
  protectedBy: "Protected by",
  loading: "Loading…",
  checking: "Checking…",
  checkingAnswer: "Checking your answer…",
  verified: "✓ Verified.",
  verifiedThanks: "✓ Verified. Thank you!",
  wrong: "Your previous answer was not correct. Please try this new challenge.",
  answerEvery: "Please answer every question.",
  expired: "The verification expired. Please choose “New challenge”.",
  expiredRenewed: "The verification expired. Please answer this new challenge.",
  unreachable: "Could not reach the verification service.",
  unreachableRetry: "Could not reach the verification service. Please try again.",
  unavailable: "Verification is not available right now.",
  tooMany: (s) => `Too many attempts. Try again in ${s} seconds.`,
  imageFailed: (q) => `The image for question ${q} could not be loaded.`,
  imageFailedStatus: "An image could not be loaded. Please choose “New challenge” to get another one.",
  audioFailed: "The audio could not be played. Try “New challenge”.",
  question: (i, n) => `Question ${i} of ${n}`,
  defaultPrompt: "Choose the answer that fits.",
  imageAlt: (q) => `Image for question ${q}`,
  playAudio: "▶ Play audio",
  playAudioLabel: (q) => `Play audio for question ${q}`,
  textAlternative: "Text alternative:",
  gridLabel: (q) => `${q}: select every matching cell`,
  cell: (k, r, c) => `Cell ${k}, row ${r}, column ${c}`,
  answerLabel: (q) => `Answer to question ${q}`,
};

const es: Strings = {
  header: "Responda para demostrar que es una persona.",
  verify: "Verificar",
  newChallenge: "↻ Nuevo desafío",
  protectedBy: "Protegido por",
  loading: "Cargando…",
  checking: "Comprobando…",
  checkingAnswer: "Comprobando su respuesta…",
  verified: "✓ Verificado.",
  verifiedThanks: "✓ Verificado. ¡Gracias!",
  wrong: "Su respuesta anterior no era correcta. Pruebe con este nuevo desafío.",
  answerEvery: "Responda todas las preguntas.",
  expired: "La verificación ha caducado. Elija «Nuevo desafío».",
  expiredRenewed: "La verificación ha caducado. Responda este nuevo desafío.",
  unreachable: "No se pudo contactar con el servicio de verificación.",
  unreachableRetry: "No se pudo contactar con el servicio de verificación. Inténtelo de nuevo.",
  unavailable: "La verificación no está disponible en este momento.",
  tooMany: (s) => `Demasiados intentos. Vuelva a intentarlo en ${s} segundos.`,
  imageFailed: (q) => `No se pudo cargar la imagen de la pregunta ${q}.`,
  imageFailedStatus: "No se pudo cargar una imagen. Elija «Nuevo desafío» para obtener otro.",
  audioFailed: "No se pudo reproducir el audio. Pruebe «Nuevo desafío».",
  question: (i, n) => `Pregunta ${i} de ${n}`,
  defaultPrompt: "Elija la respuesta adecuada.",
  imageAlt: (q) => `Imagen de la pregunta ${q}`,
  playAudio: "▶ Reproducir audio",
  playAudioLabel: (q) => `Reproducir el audio de la pregunta ${q}`,
  textAlternative: "Alternativa de texto:",
  gridLabel: (q) => `${q}: seleccione todas las casillas que correspondan`,
  cell: (k, r, c) => `Casilla ${k}, fila ${r}, columna ${c}`,
  answerLabel: (q) => `Respuesta a la pregunta ${q}`,
};

const fr: Strings = {
  header: "Répondez pour montrer que vous êtes une personne.",
  verify: "Vérifier",
  newChallenge: "↻ Nouveau défi",
  protectedBy: "Protégé par",
  loading: "Chargement…",
  checking: "Vérification…",
  checkingAnswer: "Vérification de votre réponse…",
  verified: "✓ Vérifié.",
  verifiedThanks: "✓ Vérifié. Merci !",
  wrong: "Votre réponse précédente n’était pas correcte. Essayez ce nouveau défi.",
  answerEvery: "Répondez à toutes les questions.",
  expired: "La vérification a expiré. Choisissez « Nouveau défi ».",
  expiredRenewed: "La vérification a expiré. Répondez à ce nouveau défi.",
  unreachable: "Le service de vérification est injoignable.",
  unreachableRetry: "Le service de vérification est injoignable. Réessayez.",
  unavailable: "La vérification n’est pas disponible pour le moment.",
  tooMany: (s) => `Trop de tentatives. Réessayez dans ${s} secondes.`,
  imageFailed: (q) => `L’image de la question ${q} n’a pas pu être chargée.`,
  imageFailedStatus:
    "Une image n’a pas pu être chargée. Choisissez « Nouveau défi » pour en obtenir un autre.",
  audioFailed: "L’audio n’a pas pu être lu. Essayez « Nouveau défi ».",
  question: (i, n) => `Question ${i} sur ${n}`,
  defaultPrompt: "Choisissez la réponse qui convient.",
  imageAlt: (q) => `Image de la question ${q}`,
  playAudio: "▶ Écouter l’audio",
  playAudioLabel: (q) => `Écouter l’audio de la question ${q}`,
  textAlternative: "Alternative textuelle :",
  gridLabel: (q) => `${q} : sélectionnez chaque case qui correspond`,
  cell: (k, r, c) => `Case ${k}, ligne ${r}, colonne ${c}`,
  answerLabel: (q) => `Réponse à la question ${q}`,
};

const de: Strings = {
  header: "Bitte antworten Sie, um zu zeigen, dass Sie ein Mensch sind.",
  verify: "Prüfen",
  newChallenge: "↻ Neue Aufgabe",
  protectedBy: "Geschützt durch",
  loading: "Wird geladen…",
  checking: "Wird geprüft…",
  checkingAnswer: "Ihre Antwort wird geprüft…",
  verified: "✓ Bestätigt.",
  verifiedThanks: "✓ Bestätigt. Danke!",
  wrong: "Ihre letzte Antwort war nicht richtig. Bitte versuchen Sie diese neue Aufgabe.",
  answerEvery: "Bitte beantworten Sie jede Frage.",
  expired: "Die Bestätigung ist abgelaufen. Bitte wählen Sie „Neue Aufgabe“.",
  expiredRenewed: "Die Bestätigung ist abgelaufen. Bitte beantworten Sie diese neue Aufgabe.",
  unreachable: "Der Prüfdienst ist nicht erreichbar.",
  unreachableRetry: "Der Prüfdienst ist nicht erreichbar. Bitte versuchen Sie es erneut.",
  unavailable: "Die Prüfung ist gerade nicht verfügbar.",
  tooMany: (s) => `Zu viele Versuche. Bitte in ${s} Sekunden erneut versuchen.`,
  imageFailed: (q) => `Das Bild zu Frage ${q} konnte nicht geladen werden.`,
  imageFailedStatus: "Ein Bild konnte nicht geladen werden. Bitte wählen Sie „Neue Aufgabe“.",
  audioFailed: "Das Audio konnte nicht abgespielt werden. Versuchen Sie „Neue Aufgabe“.",
  question: (i, n) => `Frage ${i} von ${n}`,
  defaultPrompt: "Wählen Sie die passende Antwort.",
  imageAlt: (q) => `Bild zu Frage ${q}`,
  playAudio: "▶ Audio abspielen",
  playAudioLabel: (q) => `Audio zu Frage ${q} abspielen`,
  textAlternative: "Textalternative:",
  gridLabel: (q) => `${q}: alle passenden Felder auswählen`,
  cell: (k, r, c) => `Feld ${k}, Zeile ${r}, Spalte ${c}`,
  answerLabel: (q) => `Antwort auf Frage ${q}`,
};

const pt: Strings = {
  header: "Responda para mostrar que é uma pessoa.",
  verify: "Verificar",
  newChallenge: "↻ Novo desafio",
  protectedBy: "Protegido por",
  loading: "Carregando…",
  checking: "Verificando…",
  checkingAnswer: "Verificando sua resposta…",
  verified: "✓ Verificado.",
  verifiedThanks: "✓ Verificado. Obrigado!",
  wrong: "Sua resposta anterior não estava correta. Tente este novo desafio.",
  answerEvery: "Responda a todas as perguntas.",
  expired: "A verificação expirou. Escolha “Novo desafio”.",
  expiredRenewed: "A verificação expirou. Responda a este novo desafio.",
  unreachable: "Não foi possível contatar o serviço de verificação.",
  unreachableRetry: "Não foi possível contatar o serviço de verificação. Tente novamente.",
  unavailable: "A verificação não está disponível no momento.",
  tooMany: (s) => `Tentativas demais. Tente novamente em ${s} segundos.`,
  imageFailed: (q) => `A imagem da pergunta ${q} não pôde ser carregada.`,
  imageFailedStatus: "Uma imagem não pôde ser carregada. Escolha “Novo desafio” para receber outro.",
  audioFailed: "O áudio não pôde ser reproduzido. Tente “Novo desafio”.",
  question: (i, n) => `Pergunta ${i} de ${n}`,
  defaultPrompt: "Escolha a resposta adequada.",
  imageAlt: (q) => `Imagem da pergunta ${q}`,
  playAudio: "▶ Ouvir áudio",
  playAudioLabel: (q) => `Ouvir o áudio da pergunta ${q}`,
  textAlternative: "Alternativa em texto:",
  gridLabel: (q) => `${q}: selecione todas as células correspondentes`,
  cell: (k, r, c) => `Célula ${k}, linha ${r}, coluna ${c}`,
  answerLabel: (q) => `Resposta à pergunta ${q}`,
};

export const LANGUAGES: Record<string, Strings> = { en, es, fr, de, pt };

/** The language to speak: the one asked for when the widget knows it, else the browser's, else English. */
export function pickLanguage(asked?: string | null): string {
  const wanted = [asked, ...(typeof navigator === "undefined" ? [] : navigator.languages)];
  for (const tag of wanted) {
    const base = tag?.toLowerCase().split(/[-_]/)[0];
    if (base && base in LANGUAGES) return base;
  }
  return "en";
}
