package moderation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// An audit entry belongs to one group, but its details may name things of
// another: the thread a staff merge put this group's thread into, a split's
// new thread (since moved away), the other group of a move. A reader of the
// group's log sees those only while they may read them; otherwise the value is
// null (the key stays, so the entry still says something was there).
var (
	// auditThreadKeys maps a key naming a thread to the key holding its title.
	auditThreadKeys = map[string]string{"into_thread_id": "into_title", "new_thread_id": "new_title"}
	auditGroupKeys  = []string{"from_group", "to_group"}
	jsonNull        = json.RawMessage("null")
)

// rawID reads an id stored in audit details.
func rawID(v json.RawMessage) (int64, bool) {
	var id int64
	if len(v) == 0 || json.Unmarshal(v, &id) != nil || id == 0 {
		return 0, false
	}
	return id, true
}

// redactAudit nulls in entries' details the threads and groups the reader may
// not read now (SPEC §3: another group's data is not theirs, not even its ids).
func (s *Service) redactAudit(ctx context.Context, a *access.Actor, entries []model.AuditEntry) ([]model.AuditEntry, error) {
	if a.IsStaff() { // staff and admins read every group and every hidden thread
		return entries, nil
	}
	decoded := make([]map[string]json.RawMessage, len(entries))
	var threadIDs, groupIDs []int64
	for i, e := range entries {
		if len(bytes.TrimSpace(e.Details)) == 0 {
			continue
		}
		var d map[string]json.RawMessage
		if err := json.Unmarshal(e.Details, &d); err != nil {
			return nil, fmt.Errorf("decode details of audit entry %d: %w", e.ID, err)
		}
		decoded[i] = d
		for k := range auditThreadKeys {
			if id, ok := rawID(d[k]); ok {
				threadIDs = append(threadIDs, id)
			}
		}
		for _, k := range auditGroupKeys {
			if id, ok := rawID(d[k]); ok {
				groupIDs = append(groupIDs, id)
			}
		}
	}
	if len(threadIDs) == 0 && len(groupIDs) == 0 {
		return entries, nil
	}
	threads, groups, err := store.AuditRefs(ctx, s.db, threadIDs, groupIDs)
	if err != nil {
		return nil, err
	}
	// The same rules as the thread and group pages: a gone thread or group is
	// unreadable too.
	readableThread := func(id int64) bool {
		t, ok := threads[id]
		if !ok {
			return false
		}
		g, ok := groups[t.GroupID]
		return ok && a.CanRead(g) && (!t.Hidden || a.CanModerate(g))
	}
	readableGroup := func(id int64) bool {
		g, ok := groups[id]
		return ok && a.CanRead(g)
	}
	for i, d := range decoded {
		changed := false
		for k, titleKey := range auditThreadKeys {
			if id, ok := rawID(d[k]); ok && !readableThread(id) {
				d[k] = jsonNull
				if _, ok := d[titleKey]; ok {
					d[titleKey] = jsonNull
				}
				changed = true
			}
		}
		for _, k := range auditGroupKeys {
			if id, ok := rawID(d[k]); ok && !readableGroup(id) {
				d[k] = jsonNull
				changed = true
			}
		}
		if !changed {
			continue
		}
		b, err := json.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("encode details of audit entry %d: %w", entries[i].ID, err)
		}
		entries[i].Details = b
	}
	return entries, nil
}
