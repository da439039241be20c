package store

import (
	"context"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
)

const invitationColumns = `id, email, role, jst_id, job_title, group_id, group_role, created_by, created_at, expires_at, accepted_at`

type NewInvitation struct {
	TokenHash []byte
	Email     string
	Role      string
	JSTID     *int64
	JobTitle  string
	GroupID   *int64
	GroupRole *string
	CreatedBy int64
	ExpiresAt time.Time
}

func CreateInvitation(ctx context.Context, q Q, in NewInvitation) (model.Invitation, error) {
	var out model.Invitation
	err := one(ctx, q, &out, "insert invitation", `
		INSERT INTO invitations (token_hash, email, role, jst_id, job_title, group_id, group_role, created_by, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING `+invitationColumns,
		in.TokenHash, in.Email, in.Role, in.JSTID, in.JobTitle, in.GroupID, in.GroupRole, in.CreatedBy, in.ExpiresAt)
	return out, err
}

// GetOpenInvitationForUpdate locks an unaccepted, unexpired invitation so that two
// accepts of the same link cannot both succeed.
func GetOpenInvitationForUpdate(ctx context.Context, q Q, tokenHash []byte) (model.Invitation, error) {
	var out model.Invitation
	err := one(ctx, q, &out, "load invitation", `
		SELECT `+invitationColumns+` FROM invitations
		WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now()
		FOR UPDATE`, tokenHash)
	return out, err
}

func GetOpenInvitation(ctx context.Context, q Q, tokenHash []byte) (model.Invitation, error) {
	var out model.Invitation
	err := one(ctx, q, &out, "load invitation", `
		SELECT `+invitationColumns+` FROM invitations
		WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now()`, tokenHash)
	return out, err
}

func MarkInvitationAccepted(ctx context.Context, q Q, id, userID int64) error {
	return execOne(ctx, q, "accept invitation", `
		UPDATE invitations SET accepted_at = now(), accepted_user_id = $2
		WHERE id = $1 AND accepted_at IS NULL`, id, userID)
}

func ListInvitations(ctx context.Context, q Q, p Page) ([]model.Invitation, error) {
	out := []model.Invitation{}
	err := selectAll(ctx, q, &out, "list invitations", `
		SELECT `+invitationColumns+` FROM invitations ORDER BY id DESC LIMIT $1 OFFSET $2`, p.Limit, p.Offset)
	return out, err
}
