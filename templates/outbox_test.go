package templates

import (
	"reflect"
	"testing"
)

func TestLinkify(t *testing.T) {
	tests := []struct {
		in   string
		want []TextPart
	}{
		{"no links", []TextPart{{Text: "no links"}}},
		{"Join: https://meet.example/j/ABC.", []TextPart{{Text: "Join: "}, {Text: "https://meet.example/j/ABC", URL: "https://meet.example/j/ABC"}, {Text: "."}}},
		{"(http://a.example/x)\nnext", []TextPart{{Text: "("}, {Text: "http://a.example/x", URL: "http://a.example/x"}, {Text: ")\nnext"}}},
		{"javascript:alert(1) ftp://x.example <https://b.example/?a=1&b=2>", []TextPart{
			{Text: "javascript:alert(1) ftp://x.example <"}, {Text: "https://b.example/?a=1&b=2", URL: "https://b.example/?a=1&b=2"}, {Text: ">"}}},
		{"http:// nothing", []TextPart{{Text: "http:// nothing"}}},
	}
	for _, tt := range tests {
		if got := Linkify(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Linkify(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}
