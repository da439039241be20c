package store

import (
	"context"
	"fmt"

	"github.com/gwd-jst/forumjst/internal/model"
)

const userColumns = `u.id, u.email, u.display_name, u.job_title, u.jst_id, j.name AS jst_name,
	u.role, u.disabled, u.password_hash, u.created_at, u.updated_at, u.lang, u.prefs, u.deleted_at`

const userFrom = `FROM users u LEFT JOIN jst j ON j.id = u.jst_id`

type NewUser struct {
	Email        string
	Name         string
	JobTitle     string
	JSTID        *int64
	Role         string
	PasswordHash string
}

func CreateUser(ctx context.Context, q Q, u NewUser) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert user", `
		INSERT INTO users (email, display_name, job_title, jst_id, role, password_hash)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id`,
		u.Email, u.Name, u.JobTitle, u.JSTID, u.Role, u.PasswordHash)
	return id, err
}

func GetUser(ctx context.Context, q Q, id int64) (model.User, error) {
	var u model.User
	err := one(ctx, q, &u, fmt.Sprintf("load user %d", id),
		`SELECT `+userColumns+` `+userFrom+` WHERE u.id = $1`, id)
	return u, err
}

func GetUserByEmail(ctx context.Context, q Q, email string) (model.User, error) {
	var u model.User
	err := one(ctx, q, &u, "load user by email",
		`SELECT `+userColumns+` `+userFrom+` WHERE lower(u.email) = lower($1)`, email)
	return u, err
}

// ListUsers returns users ordered by name, filtered by a case-insensitive match on
// name or email when search is not empty.
func ListUsers(ctx context.Context, q Q, search string, p Page) ([]model.User, error) {
	users := []model.User{}
	err := selectAll(ctx, q, &users, "list users", `
		SELECT `+userColumns+` `+userFrom+`
		WHERE $1 = '' OR u.display_name ILIKE '%' || $1 || '%' OR u.email ILIKE '%' || $1 || '%'
		ORDER BY `+personOrder("u.display_name")+`, u.id
		LIMIT $2 OFFSET $3`, search, p.Limit, p.Offset)
	return users, err
}

// UserUpdate carries the columns an admin may change; nil leaves a column alone.
type UserUpdate struct {
	Email        *string
	Name         *string
	JobTitle     *string
	JSTID        **int64
	Role         *string
	Disabled     *bool
	PasswordHash *string
}

func UpdateUser(ctx context.Context, q Q, id int64, u UserUpdate) error {
	var setJST bool
	var jst *int64
	if u.JSTID != nil {
		setJST, jst = true, *u.JSTID
	}
	return execOne(ctx, q, fmt.Sprintf("update user %d", id), `
		UPDATE users SET
			email         = COALESCE($2, email),
			display_name  = COALESCE($3, display_name),
			job_title     = COALESCE($4, job_title),
			jst_id        = CASE WHEN $5 THEN $6 ELSE jst_id END,
			role          = COALESCE($7, role),
			disabled      = COALESCE($8, disabled),
			password_hash = COALESCE($9, password_hash),
			updated_at    = now()
		WHERE id = $1`,
		id, u.Email, u.Name, u.JobTitle, setJST, jst, u.Role, u.Disabled, u.PasswordHash)
}
