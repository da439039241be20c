package mail

import (
	"time"

	"github.com/gwd-jst/forumjst/internal/i18n"
)

// PasswordReset is the mail with a single-use link to set a new password.
func PasswordReset(to string, userID int64, lang, name, link string, valid time.Duration) Message {
	return Message{To: to, UserID: userID, Lang: lang, Kind: KindPasswordReset, Build: func(tr *i18n.Printer) Content {
		return Content{
			Subject:    tr.T("mail.password_reset.subject"),
			Greeting:   tr.T("mail.greeting", "Name", name),
			Paragraphs: []string{tr.T("mail.password_reset.intro")},
			Action:     &Action{Label: tr.T("mail.password_reset.action"), URL: link},
			Small: []string{tr.N("mail.password_reset.valid_minutes", int(valid.Minutes())),
				tr.T("mail.password_reset.ignore")},
		}
	}}
}

// Invitation is the mail that carries an invitation link to a new member.
func Invitation(to, lang, inviter, link string, expires time.Time) Message {
	return Message{To: to, Lang: lang, Kind: KindInvitation, Build: func(tr *i18n.Printer) Content {
		return Content{
			Subject:    tr.T("mail.invitation.subject"),
			Greeting:   tr.T("mail.greeting_plain"),
			Paragraphs: []string{tr.T("mail.invitation.intro", "Inviter", inviter), tr.T("mail.invitation.about")},
			Action:     &Action{Label: tr.T("mail.invitation.action"), URL: link},
			Small:      []string{tr.T("mail.invitation.valid_until", "Date", tr.DateTime(expires))},
		}
	}}
}

// Notice is a notification mailed as it happens (a mention, a reply, a
// meeting about to start): a title, a line of text and the link to it. The
// recipient can unsubscribe from these with the link every one carries.
func Notice(to string, userID int64, lang, name, subject, text, label, link string) Message {
	return Message{To: to, UserID: userID, Lang: lang, Kind: KindNotification, Build: func(tr *i18n.Printer) Content {
		c := Content{Subject: subject, Greeting: tr.T("mail.greeting", "Name", name), Paragraphs: []string{text}}
		if link != "" {
			c.Action = &Action{Label: label, URL: link}
		}
		return c
	}}
}
