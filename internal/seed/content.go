package seed

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"

	"github.com/lethe-dev/lethe/internal/platform"
)

// person is a name with the Latin local part of their email address.
type person struct{ name, mail string }

// company is the customer behind one demo account.
type company struct {
	loc      *locale
	owner    person
	team     [3]person // account_admin, bot_admin, member
	brand    string    // short name, used in bot names and texts
	legal    string    // legal name on payment documents
	slug     string    // ASCII handle: email domain, Telegram/Instagram names
	timezone string
	currency string
	price    int64 // monthly plan, minor units
}

// companies are the demo accounts in order; more accounts than listed reuse them with a number.
var companies = []company{
	{loc: &ru, owner: person{"Ирина Волкова", "irina.volkova"},
		team:  [3]person{{"Артём Соловьёв", "artem.solovyov"}, {"Ольга Журавлёва", "olga.zhuravleva"}, {"Сергей Лебедев", "sergey.lebedev"}},
		brand: "Домашняя кухня", legal: "ООО «Домашняя кухня»", slug: "domkuhnya", timezone: "Europe/Moscow", currency: "RUB", price: 299000},
	{loc: &en, owner: person{"Emily Carter", "emily.carter"},
		team:  [3]person{{"Daniel Hughes", "daniel.hughes"}, {"Sofía Martínez", "sofia.martinez"}, {"Liam O'Neill", "liam.oneill"}},
		brand: "Bright Smile", legal: "Bright Smile Dental Ltd", slug: "brightsmile", timezone: "Europe/London", currency: "GBP", price: 4900},
	{loc: &ru, owner: person{"Алексей Смирнов", "alexey.smirnov"},
		team:  [3]person{{"Наталья Фёдорова", "natalya.fyodorova"}, {"Юрий Зайцев", "yury.zaytsev"}, {"Майя Королёва", "maya.korolyova"}},
		brand: "Колесо", legal: "ИП Смирнов Алексей Викторович", slug: "koleso-service", timezone: "Asia/Yekaterinburg", currency: "RUB", price: 149000},
	{loc: &en, owner: person{"Michael Brown", "michael.brown"},
		team:  [3]person{{"Chloé Dubois", "chloe.dubois"}, {"Noah Williams", "noah.williams"}, {"Ava Thompson", "ava.thompson"}},
		brand: "Northwind Coffee", legal: "Northwind Coffee Co.", slug: "northwind", timezone: "America/New_York", currency: "USD", price: 7900},
}

// sharedPerson is the name of the one person who writes to bots of several accounts through
// Messenger or Instagram (a Facebook profile name is the same on every page).
const sharedPerson = "Дарья Королёва"

type surname struct{ male, female string }

type template struct{ name, text string }

type fileKind struct {
	name, ext, contentType string
}

// locale is everything language-specific the generator writes.
type locale struct {
	code                    string
	maleFirst, femaleFirst  []string
	maleShort, femaleShort  []string // the short forms people use as display names
	surnames                []surname
	phonePrefix             string // WhatsApp ids and phone contacts: country code and the start of the number
	phoneDigits             int    // digits of a whole number with its country code
	greetA, greetB          string // "Здравствуйте, " + first name + "! Чем могу помочь?"
	msgIn, msgOut           []string
	openers                 int // the first openers of msgIn can start a conversation
	inboxIn, inboxOut       []string
	attachmentCaptions      []string
	notes                   []string
	botSuffixes             []string
	templates               []template
	tags                    []string
	accountFiles            []fileKind
	apiTokenNames           []string
	paymentDoc, paymentDesc string
	months                  [12]string
	consentDoc              string
	integrationCRM          string
}

var ru = locale{
	code: "ru",
	maleFirst: []string{"Артём", "Алексей", "Сергей", "Андрей", "Дмитрий", "Николай", "Фёдор", "Пётр", "Семён", "Матвей",
		"Евгений", "Илья", "Юрий", "Григорий", "Тимофей", "Михаил", "Олег", "Всеволод", "Аркадий", "Лев"},
	femaleFirst: []string{"Алёна", "Анастасия", "Юлия", "Екатерина", "Мария", "Дарья", "Ксения", "Наталья", "Ольга", "Татьяна",
		"Софья", "Майя", "Зоя", "Людмила", "Полина", "Таисия", "Фаина", "Василиса", "Алла", "Аксинья"},
	maleShort:   []string{"Лёша", "Серёжа", "Дима", "Саша", "Женя", "Миша", "Федя", "Тёма", "Коля", "Петя"},
	femaleShort: []string{"Катя", "Настя", "Юля", "Таня", "Лёля", "Оля", "Даша", "Ксюша", "Алёнка", "Маша"},
	surnames: []surname{{"Ковалёв", "Ковалёва"}, {"Смирнов", "Смирнова"}, {"Соловьёв", "Соловьёва"}, {"Воробьёв", "Воробьёва"},
		{"Королёв", "Королёва"}, {"Муравьёв", "Муравьёва"}, {"Зайцев", "Зайцева"}, {"Кузнецов", "Кузнецова"}, {"Попов", "Попова"},
		{"Лебедев", "Лебедева"}, {"Новиков", "Новикова"}, {"Морозов", "Морозова"}, {"Волков", "Волкова"}, {"Журавлёв", "Журавлёва"},
		{"Белов", "Белова"}, {"Киселёв", "Киселёва"}, {"Григорьев", "Григорьева"}, {"Добровольский", "Добровольская"},
		{"Полянский", "Полянская"}, {"Чайковский", "Чайковская"}, {"Йорданов", "Йорданова"}, {"Щербаков", "Щербакова"}},
	phonePrefix: "79", phoneDigits: 11,
	greetA: "Здравствуйте, ", greetB: "! Чем могу помочь?",
	msgIn: []string{
		"Здравствуйте! Хочу оформить заказ", "Добрый вечер", "Привет", "Сколько стоит доставка?",
		"Во сколько вы закрываетесь?", "Можно записаться на завтра на 15:00?", "Пришлите, пожалуйста, меню",
		"Подскажите адрес ближайшего филиала", "А где мой заказ? Жду уже час", "Есть скидки для постоянных клиентов?",
		"А борщ сегодня есть?", "Почему списали деньги дважды?",
		"Спасибо, всё получил 👍", "Как отменить заказ?", "Можно оплатить картой курьеру?", "Мой номер заказа 48213",
		"Хорошо, жду", "Да", "Нет, спасибо", "Можно поменять время доставки на 19:30?",
		"Ёлки, забыл указать домофон — 45К", "Адрес: ул. Лесная, д. 5, кв. 12, подъезд 2",
		"Мой телефон +7 916 555-12-34, перезвоните", "Позовите оператора", "Сколько ждать курьера?",
		"Всё вкусно, спасибо большое!", "Удалите, пожалуйста, мои данные", "Хочу оставить отзыв", "Ок", "Жду 🙏"},
	openers: 12,
	msgOut: []string{
		"Ваш заказ принят. Курьер привезёт его в течение 60 минут.", "Доставка бесплатная от 1500 ₽, иначе — 199 ₽.",
		"Мы работаем ежедневно с 10:00 до 23:00.", "Записали вас на завтра, 15:00. Ждём!",
		"Спасибо за обращение! Оцените, пожалуйста, нашу работу от 1 до 5.",
		"Передаю ваш вопрос оператору, он ответит в течение 5 минут.", "Меню: https://domkuhnya.example/menu",
		"Да, курьер принимает карты и оплату по QR-коду.", "Курьер уже в пути 🚴", "Уточните, пожалуйста, номер заказа.",
		"Выберите удобное время: 12:00, 15:00 или 18:30.", "Готово! Изменения сохранены.",
		"Постоянным клиентам — скидка 10% по промокоду ДОМ10.", "К сожалению, это блюдо закончилось. Предложить замену?",
		"Ближайший филиал: Тверская ул., 12. Работает до 22:00.", "Приносим извинения за задержку — дарим десерт 🍰",
		"Чтобы отменить заказ, нажмите «Отменить» в меню или ответьте «отмена».", "Спасибо! Хорошего дня ☀️"},
	inboxIn: []string{"Здравствуйте, можно поговорить с живым человеком?", "Отправляю фото чека", "Вот скан договора",
		"Курьер привёз не тот заказ", "Пересылаю скриншот оплаты", "Спасибо, вопрос решён", "Когда вернут деньги?"},
	inboxOut: []string{"Добрый день! Меня зовут Ольга, я помогу.", "Проверяю информацию, минуту…",
		"Деньги вернутся на карту в течение 3–5 рабочих дней.", "Приносим извинения, заказ уже переделывают.",
		"Спасибо за фото, передала на кухню.", "Рады были помочь! Если что — пишите."},
	attachmentCaptions: []string{"Фото чека", "Скан договора", "Скриншот оплаты", "Голосовое сообщение"},
	notes: []string{"Просил перезванивать только после 18:00.", "Аллергия на орехи — предупредить кухню.",
		"Постоянный клиент, заказывает по пятницам.", "Жаловался на курьера 12-го числа, выдали промокод.",
		"Предпочитает общаться на «вы».", "Оплачивает по безналу на юрлицо."},
	botSuffixes: []string{"доставка", "поддержка", "бронирование", "акции", "отзывы", "вакансии"},
	templates: []template{{"Приветствие", "Здравствуйте! Вас приветствует «{brand}». Чем можем помочь?"},
		{"Заказ принят", "Спасибо! Заказ принят, курьер будет у вас в течение часа."},
		{"Нерабочее время", "Сейчас мы не работаем. Ответим завтра с 10:00."},
		{"Отзыв", "Нам важно ваше мнение! Оцените, пожалуйста, заказ от 1 до 5."}},
	tags: []string{"VIP", "Новый клиент", "Жалоба", "Ждёт звонка", "Оптовик"},
	accountFiles: []fileKind{{name: "Прайс-лист 2025.pdf", ext: ".pdf", contentType: "application/pdf"},
		{name: "Логотип.png", ext: ".png", contentType: "image/png"},
		{name: "Меню доставки.csv", ext: ".csv", contentType: "text/csv; charset=utf-8"}},
	apiTokenNames: []string{"Интеграция с 1С", "Выгрузка в Битрикс24", "Сайт — форма заказа"},
	paymentDoc:    "Акт № ", paymentDesc: "Оплата тарифа «Бизнес» за ",
	months: [12]string{"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
		"ноябрь", "декабрь"},
	consentDoc:     "Согласие на обработку персональных данных (152-ФЗ), ред. 3",
	integrationCRM: "amocrm",
}

var en = locale{
	code: "en",
	maleFirst: []string{"James", "Oliver", "Noah", "Liam", "Ethan", "Lucas", "José", "André", "Noël", "Björn",
		"Henry", "Samuel", "Mateo", "Jack", "Thomas", "Oscar", "Søren", "François", "Aidan", "Leo"},
	femaleFirst: []string{"Emily", "Olivia", "Sophia", "Mia", "Ava", "Chloé", "Zoë", "Renée", "Amélie", "Isabella",
		"Charlotte", "Grace", "Lucía", "Hannah", "Ella", "Maëlle", "Ruby", "Freya", "Niamh", "Inés"},
	maleShort:   []string{"Jim", "Ollie", "Sam", "Tom", "Jack", "Leo", "Pepe", "Ben"},
	femaleShort: []string{"Em", "Liv", "Sophie", "Gracie", "Lu", "Ellie", "Annie", "Kate"},
	surnames: []surname{{"Smith", "Smith"}, {"Johnson", "Johnson"}, {"García", "García"}, {"Müller", "Müller"},
		{"O'Brien", "O'Brien"}, {"Núñez", "Núñez"}, {"Peña", "Peña"}, {"Brown", "Brown"}, {"Taylor", "Taylor"},
		{"Wilson", "Wilson"}, {"Martínez", "Martínez"}, {"Dubois", "Dubois"}, {"Walsh", "Walsh"}, {"Evans", "Evans"},
		{"Kowalski", "Kowalska"}, {"Lefèvre", "Lefèvre"}, {"Andersson", "Andersson"}, {"MacLeod", "MacLeod"}},
	phonePrefix: "447700900", phoneDigits: 12, // Ofcom's range for drama
	greetA: "Hi ", greetB: "! How can I help you today?",
	msgIn: []string{
		"Hi, I'd like to book a check-up", "Hello", "Do you have anything free on Friday morning?",
		"How much is teeth whitening?", "What are your opening hours?", "Can I move my appointment to 3pm?",
		"I've got a terrible toothache, can I come in today?", "Do you take NHS patients?",
		"How do I cancel my appointment?", "Where can I park?", "Is the hygienist in on Saturday?",
		"Thanks, see you then!", "My date of birth is 14/03/1988", "Yes please", "No thanks", "Perfect 👍",
		"Can I pay by card?", "My new number is 07700 900461", "Please delete my data", "Can I talk to a person?",
		"Is it OK to eat before the appointment?", "Running 10 minutes late, sorry!", "Great, thank you so much"},
	openers: 11,
	msgOut: []string{
		"You're booked in for Friday at 9:30. See you then!", "A check-up is £45; whitening starts at £250.",
		"We're open Monday to Saturday, 8am to 6pm.", "Your appointment has been moved to 3pm.",
		"Thanks for getting in touch! How would you rate our service from 1 to 5?",
		"I'm passing you to a member of our team, they'll reply within 5 minutes.",
		"We have slots at 9:00, 11:30 and 16:15. Which suits you?", "Free parking is available behind the clinic.",
		"Yes, we accept all major cards and Apple Pay.", "To cancel, reply CANCEL or use the link in your confirmation.",
		"Please arrive 10 minutes early to fill in a medical history form.", "No problem, we'll see you shortly.",
		"Sorry to hear that! We keep emergency slots every morning — shall I book one?", "Have a lovely day ☀️"},
	inboxIn: []string{"Can someone call me back please?", "Here's a photo of my X-ray", "Attaching my insurance form",
		"I was charged twice for my visit", "Sending the referral letter", "All sorted, thanks!"},
	inboxOut: []string{"Hi, this is Sofía from reception — happy to help.", "Let me check that for you…",
		"The refund will reach your card in 3–5 working days.", "Thanks, I've added it to your file.",
		"We've rebooked you for Tuesday at 10am.", "Glad we could help!"},
	attachmentCaptions: []string{"X-ray photo", "Insurance form", "Referral letter", "Voice note"},
	notes: []string{"Nervous patient — offer a longer first appointment.", "Allergic to penicillin.",
		"Prefers text reminders, not calls.", "Payment plan agreed for the crown, £50 a month.",
		"Asked to be contacted only after 5pm."},
	botSuffixes: []string{"Appointments", "Support", "FAQ", "Promotions", "Feedback", "Careers"},
	templates: []template{{"Welcome", "Hi! Welcome to {brand}. How can we help?"},
		{"Booking confirmed", "Your appointment is confirmed. Reply CANCEL to cancel."},
		{"Out of hours", "We're closed right now and will reply from 8am tomorrow."},
		{"Review request", "How did we do? Rate your visit from 1 to 5."}},
	tags: []string{"VIP", "New patient", "Complaint", "Callback requested", "Insurance"},
	accountFiles: []fileKind{{name: "Price list 2025.pdf", ext: ".pdf", contentType: "application/pdf"},
		{name: "logo.png", ext: ".png", contentType: "image/png"},
		{name: "FAQ.txt", ext: ".txt", contentType: "text/plain; charset=utf-8"}},
	apiTokenNames: []string{"HubSpot sync", "Website booking form", "Reporting export"},
	paymentDoc:    "INV-", paymentDesc: "Business plan subscription, ",
	months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September",
		"October", "November", "December"},
	consentDoc:     "Personal data processing consent, version 3",
	integrationCRM: "hubspot",
}

// Channel orders per locale: connections are dealt to an account's bots in this order, so every
// account with at least one bot uses all seven channels.
var channelOrder = map[string][]string{
	"ru": {platform.ChannelTelegram, platform.ChannelVK, platform.ChannelWhatsApp, platform.ChannelInstagram,
		platform.ChannelViber, platform.ChannelMessenger, platform.ChannelSlack},
	"en": {platform.ChannelMessenger, platform.ChannelWhatsApp, platform.ChannelInstagram, platform.ChannelTelegram,
		platform.ChannelSlack, platform.ChannelViber, platform.ChannelVK},
}

var tagColors = []string{"#d4af37", "#4caf50", "#f44336", "#ff9800", "#3f51b5", "#9c27b0"}

var contactDomains = []string{"example.com", "example.org", "example.net"}

var activityActions = []string{"login", "bot.settings.update", "template.update", "connection.create", "member.invite",
	"end_user.export", "api_token.create", "webhook.update", "tag.create", "inbox.reply"}

// Small bodies of the objects the generator writes: real file formats, a few hundred bytes each.
var (
	bodyPNG  = encodeImage(true)
	bodyJPEG = encodeImage(false)
	bodyOGG  = append([]byte("OggS\x00\x02"), make([]byte, 58)...)
	bodyPDF  = []byte("%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n" +
		"2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n" +
		"3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>> endobj\n" +
		"trailer <</Root 1 0 R>>\n%%EOF\n")
	bodyCSV = []byte("Блюдо;Цена, ₽\nБорщ с пампушками;390\nПельмени домашние;450\nСырники со сметаной;320\n")
	bodyTXT = []byte("Q: Do you take walk-ins?\nA: Yes, for emergencies every morning from 8am.\n")
)

func encodeImage(asPNG bool) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range 16 {
		img.Set(i%4, i/4, color.RGBA{R: uint8(40 * (i % 4)), G: 120, B: uint8(200 - 10*i), A: 255})
	}
	var b bytes.Buffer
	var err error
	if asPNG {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 60})
	}
	if err != nil {
		panic(err)
	}
	return b.Bytes()
}

func bodyFor(ext string) []byte {
	switch ext {
	case ".png":
		return bodyPNG
	case ".jpg":
		return bodyJPEG
	case ".ogg":
		return bodyOGG
	case ".pdf":
		return bodyPDF
	case ".csv":
		return bodyCSV
	}
	return bodyTXT
}

// userFiles are what end users send: name pattern, extension and type.
var userFiles = []fileKind{
	{name: "IMG_", ext: ".jpg", contentType: "image/jpeg"},
	{name: "scan_", ext: ".pdf", contentType: "application/pdf"},
	{name: "voice_", ext: ".ogg", contentType: "audio/ogg"},
	{name: "screenshot_", ext: ".png", contentType: "image/png"},
}

var translit = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "yo", 'ж': "zh", 'з': "z", 'и': "i", 'й': "y",
	'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f",
	'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya",
}

// latin turns a name into lower-case ASCII words (Russian transliterated, accents dropped), the way
// people spell their usernames and email addresses.
func latin(name string) []string {
	var words []string
	for _, w := range strings.Fields(platform.NormalizeName(name)) {
		var b strings.Builder
		for _, r := range w {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
				b.WriteRune(r)
			case r == 'ø':
				b.WriteString("o")
			default:
				b.WriteString(translit[r])
			}
		}
		if b.Len() > 0 {
			words = append(words, b.String())
		}
	}
	return words
}
