package testkit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// SMTPServer is a real SMTP server (emersion/go-smtp) on a loopback port
// that keeps every message it accepts. It can refuse, delay or hang, to test
// the mail worker against a misbehaving server.
type SMTPServer struct {
	Host string
	Port int

	mu       sync.Mutex
	received []Received
	refuse   int           // refuse this many next messages with 550
	delay    time.Duration // wait this long before answering MAIL FROM
	hang     chan struct{} // non-nil: MAIL FROM waits until it is closed
	closed   chan struct{}
	arrived  chan struct{}
	srv      *smtp.Server
}

// Received is one accepted message.
type Received struct {
	From   string
	To     []string
	Header mail.Header
	// Subject is decoded (RFC 2047).
	Subject string
	// Text and HTML are the decoded parts of a multipart/alternative message.
	Text string
	HTML string
	Raw  []byte
}

// StartSMTP runs a server until the test ends.
func StartSMTP(t testing.TB) *SMTPServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTPServer{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, closed: make(chan struct{}),
		arrived: make(chan struct{}, 1)}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		s.Hang(false)
		close(s.closed)
		_ = srv.Close()
	})
	return s
}

// Refuse makes the next n messages fail with a permanent 550 at RCPT TO.
func (s *SMTPServer) Refuse(n int) {
	s.mu.Lock()
	s.refuse = n
	s.mu.Unlock()
}

// Delay makes every MAIL FROM wait d first (a slow server).
func (s *SMTPServer) Delay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Hang makes MAIL FROM wait without answering until Hang(false).
func (s *SMTPServer) Hang(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case on && s.hang == nil:
		s.hang = make(chan struct{})
	case !on && s.hang != nil:
		close(s.hang)
		s.hang = nil
	}
}

// Received returns a copy of every accepted message so far.
func (s *SMTPServer) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// WaitFor waits until at least n messages have arrived and returns them all.
func (s *SMTPServer) WaitFor(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if got := s.Received(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("SMTP server got %d messages in %s, want %d", len(s.Received()), timeout, n)
		}
	}
}

// NewSession implements smtp.Backend.
func (s *SMTPServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }

type smtpSession struct {
	srv  *SMTPServer
	from string
	to   []string
}

func (ss *smtpSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *smtpSession) Logout() error { return nil }

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.srv.mu.Lock()
	delay, hang := ss.srv.delay, ss.srv.hang
	ss.srv.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-ss.srv.closed:
		}
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	ss.from = from
	return nil
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	if ss.srv.refuse > 0 {
		ss.srv.refuse--
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable (test)"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	rec, err := parseMessage(raw)
	if err != nil {
		return fmt.Errorf("test server cannot parse the message: %w", err)
	}
	rec.From, rec.To = ss.from, ss.to
	ss.srv.mu.Lock()
	ss.srv.received = append(ss.srv.received, rec)
	ss.srv.mu.Unlock()
	select {
	case ss.srv.arrived <- struct{}{}:
	default:
	}
	return nil
}

func parseMessage(raw []byte) (Received, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, err
	}
	rec := Received{Header: m.Header, Raw: raw}
	dec := new(mime.WordDecoder)
	if rec.Subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		return Received{}, err
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return Received{}, err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decodePart(m.Header.Get("Content-Transfer-Encoding"), m.Body)
		rec.Text = body
		return rec, err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Received{}, err
		}
		body, err := decodePart(p.Header.Get("Content-Transfer-Encoding"), p)
		if err != nil {
			return Received{}, err
		}
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			rec.Text = body
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			rec.HTML = body
		}
	}
	return rec, nil
}

func decodePart(cte string, r io.Reader) (string, error) {
	// multipart.Reader already undoes quoted-printable for parts (and drops
	// the header); a top-level body is decoded here.
	if strings.EqualFold(cte, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// Link returns the first link in the text part that contains part.
func (r Received) Link(part string) string {
	for _, l := range linkRE.FindAllString(r.Text, -1) {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}
