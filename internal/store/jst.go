package store

import (
	"context"

	"github.com/gwd-jst/forumjst/internal/model"
)

type NewJST struct {
	Name        string
	Kind        string
	Voivodeship string
	TERYT       *string
}

func CreateJST(ctx context.Context, q Q, j NewJST) (model.JST, error) {
	var out model.JST
	err := one(ctx, q, &out, "insert jst", `
		INSERT INTO jst (name, kind, voivodeship, teryt) VALUES ($1, $2, $3, $4)
		RETURNING id, name, kind, voivodeship, teryt, created_at`,
		j.Name, j.Kind, j.Voivodeship, j.TERYT)
	return out, err
}

func FindJST(ctx context.Context, q Q, name, kind string) (model.JST, error) {
	var out model.JST
	err := one(ctx, q, &out, "find jst",
		`SELECT id, name, kind, voivodeship, teryt, created_at FROM jst WHERE name = $1 AND kind = $2`, name, kind)
	return out, err
}

func ListJST(ctx context.Context, q Q, p Page) ([]model.JST, error) {
	out := []model.JST{}
	err := selectAll(ctx, q, &out, "list jst", `
		SELECT id, name, kind, voivodeship, teryt, created_at FROM jst
		ORDER BY name COLLATE "pl-x-icu", id LIMIT $1 OFFSET $2`, p.Limit, p.Offset)
	return out, err
}
