package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSMTPUnsetIsOutboxOnly(t *testing.T) {
	c, err := Load(env(base()))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP != nil {
		t.Errorf("no CLASSMEET_SMTP_HOST gave SMTP %+v, want nil (outbox only)", c.SMTP)
	}
}

func TestSMTPSettings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "smtp-password")
	if err := os.WriteFile(p, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  map[string]string
		want SMTP
	}{
		{"defaults: mandatory STARTTLS on 587", map[string]string{"CLASSMEET_SMTP_FROM": "meet@school.example"},
			SMTP{Host: "smtp.school.example", Port: 587, From: "meet@school.example", TLS: SMTPStartTLS}},
		{"implicit TLS on 465, a named sender", map[string]string{"CLASSMEET_SMTP_TLS": "tls", "CLASSMEET_SMTP_FROM": `"Parents' evenings" <meet@school.example>`},
			SMTP{Host: "smtp.school.example", Port: 465, From: "meet@school.example", FromName: "Parents' evenings", TLS: SMTPImplicitTLS}},
		{"credentials from a file", map[string]string{"CLASSMEET_SMTP_FROM": "meet@school.example", "CLASSMEET_SMTP_USERNAME": "meet",
			"CLASSMEET_SMTP_PASSWORD_FILE": p, "CLASSMEET_SMTP_PORT": "2525", "CLASSMEET_SMTP_TLS": "STARTTLS_opportunistic"},
			SMTP{Host: "smtp.school.example", Port: 2525, From: "meet@school.example", Username: "meet", Password: "s3cret", TLS: SMTPStartTLSOpportunistic}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := base()
			kv["CLASSMEET_SMTP_HOST"] = "smtp.school.example"
			for k, v := range tt.set {
				kv[k] = v
			}
			c, err := Load(env(kv))
			if err != nil {
				t.Fatal(err)
			}
			if c.SMTP == nil || *c.SMTP != tt.want {
				t.Errorf("SMTP = %+v, want %+v", c.SMTP, tt.want)
			}
		})
	}
}

func TestSMTPRejects(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"settings without a host", map[string]string{"CLASSMEET_SMTP_HOST": "", "CLASSMEET_SMTP_USERNAME": "meet"}, "CLASSMEET_SMTP_USERNAME is set but CLASSMEET_SMTP_HOST is not"},
		{"no sender", map[string]string{"CLASSMEET_SMTP_FROM": ""}, "CLASSMEET_SMTP_FROM is required"},
		{"bad sender", map[string]string{"CLASSMEET_SMTP_FROM": "the school"}, "CLASSMEET_SMTP_FROM must be an address"},
		{"host with a port", map[string]string{"CLASSMEET_SMTP_HOST": "smtp.school.example:587"}, "CLASSMEET_SMTP_HOST must be a host name"},
		{"bad port", map[string]string{"CLASSMEET_SMTP_PORT": "0"}, "CLASSMEET_SMTP_PORT must be a whole number from 1 to 65535"},
		{"bad policy", map[string]string{"CLASSMEET_SMTP_TLS": "ssl"}, "CLASSMEET_SMTP_TLS must be one of starttls, starttls_opportunistic, tls, none"},
		{"plain text off this machine", map[string]string{"CLASSMEET_SMTP_TLS": "none"}, "CLASSMEET_SMTP_TLS none sends mail and passwords in plain text"},
		{"user without password", map[string]string{"CLASSMEET_SMTP_USERNAME": "meet"}, "CLASSMEET_SMTP_USERNAME and CLASSMEET_SMTP_PASSWORD"},
		{"password twice", map[string]string{"CLASSMEET_SMTP_USERNAME": "meet", "CLASSMEET_SMTP_PASSWORD": "x", "CLASSMEET_SMTP_PASSWORD_FILE": "/x"}, "CLASSMEET_SMTP_PASSWORD and CLASSMEET_SMTP_PASSWORD_FILE are both set"},
		{"unreadable password file", map[string]string{"CLASSMEET_SMTP_USERNAME": "meet", "CLASSMEET_SMTP_PASSWORD_FILE": "/nonexistent/pw"}, "CLASSMEET_SMTP_PASSWORD_FILE cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := base()
			kv["CLASSMEET_SMTP_HOST"] = "smtp.school.example"
			kv["CLASSMEET_SMTP_FROM"] = "meet@school.example"
			for k, v := range tt.set {
				kv[k] = v
			}
			_, err := Load(env(kv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSMTPPlainTextToLoopback(t *testing.T) {
	kv := base()
	kv["CLASSMEET_SMTP_HOST"] = "127.0.0.1"
	kv["CLASSMEET_SMTP_PORT"] = "2525"
	kv["CLASSMEET_SMTP_FROM"] = "meet@school.example"
	kv["CLASSMEET_SMTP_TLS"] = "none"
	c, err := Load(env(kv))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.TLS != SMTPNoTLS || c.SMTP.Port != 2525 {
		t.Errorf("SMTP = %+v", c.SMTP)
	}
}
