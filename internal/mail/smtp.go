package mail

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"classmeet/internal/config"
	"classmeet/internal/store"
)

// smtpSender sends through one SMTP server with go-mail.
type smtpSender struct {
	client   *gomail.Client
	from     string
	fromName string
	domain   string // of the sender's address, for Message-IDs
	now      func() time.Time
}

func newSMTP(s config.SMTP, tc *tls.Config, now func() time.Time) (*smtpSender, error) {
	if tc == nil {
		tc = &tls.Config{}
	}
	tc = tc.Clone()
	if tc.ServerName == "" {
		tc.ServerName = s.Host
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS12)
	opts := []gomail.Option{gomail.WithTimeout(sendTimeout), gomail.WithTLSConfig(tc)}
	switch s.TLS {
	case config.SMTPStartTLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case config.SMTPImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case config.SMTPNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.Username != "" {
		// Auto-discovery picks the strongest mechanism offered and never
		// sends a password in plain text over an unencrypted connection.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	opts = append(opts, gomail.WithPort(s.Port)) // after WithSSL, which sets a port of its own
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP client for %s: %w", s.Host, err)
	}
	_, domain, _ := strings.Cut(s.From, "@")
	return &smtpSender{client: c, from: s.From, fromName: s.FromName, domain: domain, now: now}, nil
}

// send delivers ms over one connection. A message that cannot be built
// fails alone; a connection that cannot be made fails them all.
func (s *smtpSender) send(ctx context.Context, ms []store.MailToSend) []error {
	errs := make([]error, len(ms))
	msgs := make([]*gomail.Msg, len(ms))
	for i, m := range ms {
		msgs[i], errs[i] = s.message(m)
	}
	conn, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		for i := range errs {
			errs[i] = cmp.Or(errs[i], fmt.Errorf("mail: connect to the mail server: %w", err))
		}
		return errs
	}
	defer func() { _ = s.client.CloseWithSMTPClient(conn) }() // each message's outcome is known by then
	for i, msg := range msgs {
		if msg == nil {
			continue
		}
		if err := s.client.SendWithSMTPClient(conn, msg); err != nil {
			errs[i] = classify(err)
		}
	}
	return errs
}

// classify marks a permanent refusal (a 5xx answer) as ErrRefused.
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return fmt.Errorf("mail: send: %w", err)
}

// message builds m as mail: plain text, and the attachment if there is one.
// Its Message-ID comes from its queue id, so a message sent twice (a worker
// died after sending, before recording it) is one message to the reader.
func (s *smtpSender) message(m store.MailToSend) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.fromName, s.from); err != nil {
		return nil, fmt.Errorf("%w: sender: %w", ErrUnsendable, err)
	}
	if err := msg.AddToFormat(m.ToName, m.ToAddr); err != nil {
		return nil, fmt.Errorf("%w: recipient: %w", ErrUnsendable, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID.String() + "@" + s.domain)
	msg.SetDateWithValue(s.now())
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	if len(m.Attachment) > 0 {
		opts := []gomail.FileOption{}
		if m.AttachmentType != "" {
			opts = append(opts, gomail.WithFileContentType(gomail.ContentType(m.AttachmentType)))
		}
		name := cmp.Or(m.AttachmentName, "attachment")
		if err := msg.AttachReader(name, bytes.NewReader(m.Attachment), opts...); err != nil {
			return nil, fmt.Errorf("%w: attachment: %w", ErrUnsendable, err)
		}
	}
	return msg, nil
}
