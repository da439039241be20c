package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/model"
)

// nullID stores 0 as NULL (an action taken by the system, e.g. create-admin).
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// NewAuditEntry is one moderation or administration action. The table is append-only.
type NewAuditEntry struct {
	ActorID    int64
	Action     string
	TargetType string
	TargetID   int64
	GroupID    *int64
	Reason     string
	Details    map[string]any
}

func AppendAudit(ctx context.Context, q Q, e NewAuditEntry) error {
	details := []byte("{}")
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return fmt.Errorf("encode audit details: %w", err)
		}
	}
	_, err := q.ExecContext(ctx, `
		INSERT INTO audit_log (actor_id, action, target_type, target_id, group_id, reason, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		nullID(e.ActorID), e.Action, e.TargetType, nullID(e.TargetID), e.GroupID, e.Reason, details)
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditFilter narrows the log; zero values mean "any".
type AuditFilter struct {
	GroupID int64
	ActorID int64
	Action  string
}

func ListAudit(ctx context.Context, q Q, f AuditFilter, p Page) ([]model.AuditEntry, error) {
	out := []model.AuditEntry{}
	err := selectAll(ctx, q, &out, "list audit", `
		SELECT a.id, a.actor_id, u.display_name AS actor_name, a.action, a.target_type, a.target_id,
		       a.group_id, a.reason, a.details, a.created_at
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
		WHERE ($1 = 0 OR a.group_id = $1)
		  AND ($2 = 0 OR a.actor_id = $2)
		  AND ($3 = '' OR a.action = $3)
		ORDER BY a.id DESC
		LIMIT $4 OFFSET $5`, f.GroupID, f.ActorID, f.Action, p.Limit, p.Offset)
	return out, err
}

// AuditActors lists the people who acted in the log (in one group's entries,
// or in all with groupID 0), by name: the person filter of the audit page.
func AuditActors(ctx context.Context, q Q, groupID int64) ([]model.AuditActor, error) {
	out := []model.AuditActor{}
	err := selectAll(ctx, q, &out, "list audit actors", `
		SELECT u.id, u.display_name AS name
		FROM users u
		WHERE EXISTS (SELECT 1 FROM audit_log a WHERE a.actor_id = u.id AND ($1 = 0 OR a.group_id = $1))
		ORDER BY u.display_name, u.id`, groupID)
	return out, err
}

// AuditThreadRef is what deciding whether a reader may see a thread named in
// an audit entry needs: its group now and whether it is hidden.
type AuditThreadRef struct {
	ID      int64 `db:"id"`
	GroupID int64 `db:"group_id"`
	Hidden  bool  `db:"hidden"`
}

// AuditRefs loads the threads that audit entries name, and the groups they
// name or those threads are in now, by id; ids that no longer exist are simply
// absent from the maps.
func AuditRefs(ctx context.Context, q Q, threadIDs, groupIDs []int64) (map[int64]AuditThreadRef, map[int64]model.Group, error) {
	threads := map[int64]AuditThreadRef{}
	groups := map[int64]model.Group{}
	if len(threadIDs) > 0 {
		var rows []AuditThreadRef
		if err := selectAll(ctx, q, &rows, "audit thread refs",
			`SELECT id, group_id, hidden FROM threads WHERE id = ANY($1)`, pq.Array(threadIDs)); err != nil {
			return nil, nil, err
		}
		for _, r := range rows {
			threads[r.ID] = r
			groupIDs = append(groupIDs, r.GroupID)
		}
	}
	if len(groupIDs) > 0 {
		var rows []model.Group
		if err := selectAll(ctx, q, &rows, "audit group refs",
			`SELECT `+groupColumns+` FROM groups WHERE id = ANY($1)`, pq.Array(groupIDs)); err != nil {
			return nil, nil, err
		}
		for _, g := range rows {
			groups[g.ID] = g
		}
	}
	return threads, groups, nil
}
