package accounts

import (
	"context"
	"errors"
	"strings"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// InvitationInput is what an admin fills in to invite somebody.
type InvitationInput struct {
	Email     string  `json:"email"`
	Role      string  `json:"role"`
	JSTID     *int64  `json:"jst_id"`
	JobTitle  string  `json:"job_title"`
	GroupID   *int64  `json:"group_id"`
	GroupRole *string `json:"group_role"`
}

// CreateInvitation stores a single-use invitation and returns it with its raw
// token; only the token's hash is kept, so the link is shown exactly once.
func (s *Service) CreateInvitation(ctx context.Context, a *access.Actor, in InvitationInput) (model.Invitation, string, error) {
	if err := a.Admin(); err != nil {
		return model.Invitation{}, "", err
	}
	in.Email, in.JobTitle = strings.TrimSpace(in.Email), clean(in.JobTitle)
	if in.Role == "" {
		in.Role = model.RoleMember
	}
	in.JSTID, in.GroupID = nonZero(in.JSTID), nonZero(in.GroupID)
	v := &apperr.Validation{}
	checkEmail(v, in.Email)
	checkOneOf(v, "role", in.Role, model.GlobalRoles)
	checkJobTitle(v, in.JobTitle)
	if in.GroupID != nil {
		if in.GroupRole == nil || *in.GroupRole == "" {
			r := model.GroupMember
			in.GroupRole = &r
		}
		checkOneOf(v, "group_role", *in.GroupRole, model.GroupRoles)
	} else {
		in.GroupRole = nil
	}
	if err := v.Err(); err != nil {
		return model.Invitation{}, "", err
	}
	token := randomToken()
	var inv model.Invitation
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // an invitation is shown to no one live
		if _, err := store.GetUserByEmail(ctx, tx, in.Email); err == nil {
			return apperr.Invalid("email", "err.email_taken")
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if in.GroupID != nil {
			if _, err := store.GetGroup(ctx, tx, *in.GroupID); errors.Is(err, store.ErrNotFound) {
				return apperr.Invalid("group_id", "err.group_unknown")
			} else if err != nil {
				return err
			}
		}
		var err error
		inv, err = store.CreateInvitation(ctx, tx, store.NewInvitation{
			TokenHash: hashToken(token), Email: in.Email, Role: in.Role, JSTID: in.JSTID, JobTitle: in.JobTitle,
			GroupID: in.GroupID, GroupRole: in.GroupRole, CreatedBy: a.UserID, ExpiresAt: s.now().Add(s.set.InvitationTTL),
		})
		if store.IsForeignKeyViolation(err) {
			return apperr.Invalid("jst_id", "err.jst_unknown")
		}
		if err != nil {
			return err
		}
		if s.mailer != nil {
			// Mailed in the same transaction: the invitation exists exactly
			// when its mail does. Without an SMTP server the mail is kept for
			// /admin/mail; either way the admin also sees the link once.
			admin, err := store.GetUser(ctx, tx, a.UserID)
			if err != nil {
				return err
			}
			if _, err := s.mailer.Enqueue(ctx, tx, mail.Invitation(in.Email, "", admin.Name,
				s.mailer.URL("/invite/"+token), inv.ExpiresAt)); err != nil {
				return err
			}
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "invitation.create",
			TargetType: "invitation", TargetID: inv.ID, GroupID: in.GroupID, Details: map[string]any{"email": in.Email, "role": in.Role}})
	})
	return inv, token, err
}

// Invitation looks up an open invitation by its token (for the accept page).
func (s *Service) Invitation(ctx context.Context, token string) (model.Invitation, error) {
	return store.GetOpenInvitation(ctx, s.db, hashToken(token))
}

// AcceptInput is what the invited person chooses.
type AcceptInput struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// AcceptInvitation creates the account; a used or expired link is not found.
func (s *Service) AcceptInvitation(ctx context.Context, token string, in AcceptInput) (model.User, error) {
	in.Name = clean(in.Name)
	v := &apperr.Validation{}
	checkName(v, "name", in.Name)
	if err := s.policy.check("password", in.Password); err != nil {
		v.Add("password", err.(*apperr.Validation).Fields["password"])
	}
	if err := v.Err(); err != nil {
		return model.User{}, err
	}
	hash, err := HashPassword(in.Password, s.set.Argon2)
	if err != nil {
		return model.User{}, err
	}
	var u model.User
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // a new account: nobody follows it live yet
		inv, err := store.GetOpenInvitationForUpdate(ctx, tx, hashToken(token))
		if err != nil {
			return err
		}
		id, err := store.CreateUser(ctx, tx, store.NewUser{Email: inv.Email, Name: in.Name, JobTitle: inv.JobTitle,
			JSTID: inv.JSTID, Role: inv.Role, PasswordHash: hash})
		if err != nil {
			if store.IsUniqueViolation(err, "users_email_key") {
				return &apperr.Conflict{Code: "email_taken", Message: "an account with this email already exists"}
			}
			return err
		}
		if inv.GroupID != nil && inv.GroupRole != nil {
			if _, err := store.PutMembership(ctx, tx, id, *inv.GroupID, *inv.GroupRole); err != nil {
				return err
			}
		}
		if err := store.MarkInvitationAccepted(ctx, tx, inv.ID, id); err != nil {
			return err
		}
		if u, err = store.GetUser(ctx, tx, id); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: id, Action: "invitation.accept",
			TargetType: "invitation", TargetID: inv.ID, GroupID: inv.GroupID})
	})
	return u, err
}

func (s *Service) ListInvitations(ctx context.Context, a *access.Actor, p store.Page) ([]model.Invitation, error) {
	if err := a.Admin(); err != nil {
		return nil, err
	}
	return store.ListInvitations(ctx, s.db, p)
}
