package chanapi

import "strings"

// codeTexts are the one-time code's message, by locale: the one place its words live. WhatsApp
// alone does not send them: its authentication template's text is Meta's own, in the language
// chosen.
var codeTexts = map[string]string{
	"ru": "Ваш код подтверждения запроса на удаление данных: %s. Никому его не сообщайте.",
	"en": "Your data-deletion request verification code: %s. Do not share it.",
}

// normLocale is "ru" for a Russian locale ("ru", "ru-RU", "ru_RU") and "en" for any other.
func normLocale(locale string) string {
	l := strings.ToLower(strings.TrimSpace(locale))
	if l == "ru" || strings.HasPrefix(l, "ru-") || strings.HasPrefix(l, "ru_") {
		return "ru"
	}
	return "en"
}

// CodeText is the message carrying code in locale ("ru", or English for any other).
func CodeText(locale, code string) string {
	return strings.Replace(codeTexts[normLocale(locale)], "%s", code, 1)
}
