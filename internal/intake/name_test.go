package intake

import "testing"

func TestSameName(t *testing.T) {
	for _, tc := range []struct {
		written, owner string
		same           bool
	}{
		{"Иван Петров", "Иван Петров", true},
		{"петров иван", "Иван Петров", true},          // order and case
		{"Пётр Семёнов", "Петр Семенов", true},        // ё as е
		{"Иванов Иван Иванович", "Иван Иванов", true}, // a patronymic added
		{"Иван", "Иван Петров", false},                // one word of two
		{"Иван Сидоров", "Иван Петров", false},        // another surname
		{"", "Иван Петров", false},                    // none given
		{"Sam Green", "Sam Green", true},              // English
		{"Sam-Green", "Sam Green", true},              // punctuation
		{"Madonna", "Madonna", true},                  // a one-word name
		{"Иван Петров", "", false},                    // an account without a name cannot match
		{"Ivan Petrov", "Иван Петров", false},         // no transliteration: verify instead
	} {
		if got := sameName(tc.written, tc.owner); got != tc.same {
			t.Errorf("sameName(%q, %q) = %v, want %v", tc.written, tc.owner, got, tc.same)
		}
	}
}
