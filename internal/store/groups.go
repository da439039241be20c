package store

import (
	"context"
	"fmt"

	"github.com/gwd-jst/forumjst/internal/model"
)

const groupColumns = `id, name, slug, kind, description, created_at, moderators_only_threads`

type NewGroup struct {
	Name        string
	Slug        string
	Kind        string
	Description string
}

func CreateGroup(ctx context.Context, q Q, g NewGroup) (model.Group, error) {
	var out model.Group
	err := one(ctx, q, &out, "insert group", `
		INSERT INTO groups (name, slug, kind, description) VALUES ($1, $2, $3, $4)
		RETURNING `+groupColumns, g.Name, g.Slug, g.Kind, g.Description)
	return out, err
}

func GetGroup(ctx context.Context, q Q, id int64) (model.Group, error) {
	var out model.Group
	err := one(ctx, q, &out, fmt.Sprintf("load group %d", id),
		`SELECT `+groupColumns+` FROM groups WHERE id = $1`, id)
	return out, err
}

func GetGroupBySlug(ctx context.Context, q Q, slug string) (model.Group, error) {
	var out model.Group
	err := one(ctx, q, &out, "load group by slug",
		`SELECT `+groupColumns+` FROM groups WHERE slug = $1`, slug)
	return out, err
}

// ListGroups returns every group in index order (by kind, then name).
func ListGroups(ctx context.Context, q Q) ([]model.Group, error) {
	out := []model.Group{}
	err := selectAll(ctx, q, &out, "list groups", `
		SELECT `+groupColumns+` FROM groups
		ORDER BY array_position(ARRAY['rural','urban','county','common'], kind), name COLLATE "pl-x-icu", id`)
	return out, err
}

// PutMembership adds a user to a group or changes their role there.
func PutMembership(ctx context.Context, q Q, userID, groupID int64, role string) (created bool, err error) {
	err = one(ctx, q, &created, "put membership", `
		INSERT INTO memberships (user_id, group_id, role) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, group_id) DO UPDATE SET role = EXCLUDED.role
		RETURNING (xmax = 0) AS created`, userID, groupID, role)
	return created, err
}

func DeleteMembership(ctx context.Context, q Q, userID, groupID int64) error {
	return execOne(ctx, q, "delete membership",
		`DELETE FROM memberships WHERE user_id = $1 AND group_id = $2`, userID, groupID)
}

func GetMembershipRole(ctx context.Context, q Q, userID, groupID int64) (string, error) {
	var role string
	err := one(ctx, q, &role, "load membership",
		`SELECT role FROM memberships WHERE user_id = $1 AND group_id = $2`, userID, groupID)
	return role, err
}

func ListMembers(ctx context.Context, q Q, groupID int64) ([]model.Member, error) {
	out := []model.Member{}
	err := selectAll(ctx, q, &out, "list members", `
		SELECT m.user_id, u.display_name, u.job_title, j.name AS jst_name, m.role, m.created_at
		FROM memberships m
		JOIN users u ON u.id = m.user_id
		LEFT JOIN jst j ON j.id = u.jst_id
		WHERE m.group_id = $1 AND NOT u.disabled
		ORDER BY array_position(ARRAY['moderator','member','observer'], m.role), `+personOrder("u.display_name")+`, u.id`, groupID)
	return out, err
}

func ListUserMemberships(ctx context.Context, q Q, userID int64) ([]model.Membership, error) {
	out := []model.Membership{}
	err := selectAll(ctx, q, &out, "list memberships", `
		SELECT m.group_id, g.name AS group_name, g.kind AS group_kind, m.role
		FROM memberships m JOIN groups g ON g.id = m.group_id
		WHERE m.user_id = $1 ORDER BY g.name COLLATE "pl-x-icu"`, userID)
	return out, err
}

// SetGroupModeratorsOnly switches the "only moderators open threads" setting.
func SetGroupModeratorsOnly(ctx context.Context, q Q, groupID int64, on bool) (model.Group, error) {
	var out model.Group
	err := one(ctx, q, &out, fmt.Sprintf("update group %d", groupID), `
		UPDATE groups SET moderators_only_threads = $2 WHERE id = $1 RETURNING `+groupColumns, groupID, on)
	return out, err
}
