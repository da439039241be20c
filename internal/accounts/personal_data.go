package accounts

import (
	"archive/zip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Personal data (issue 12 item 7; GDPR articles 15, 17 and 20, the seed's
// "prawo dostępu do danych i ich poprawienia"): a person downloads everything
// the forum holds about them, or has their account anonymised.

// maxExports is how many archives one instance writes at once: each holds a
// database connection while its rows stream to the client.
const maxExports = 4

// BeginExport records that the principal asked for their data and reserves
// one of the export slots; the archive itself is written by WriteExport
// (after the response has started, so the audit entry comes first and a
// failure to record stops the export). The caller must call release once
// the archive is written or abandoned. With every slot taken the answer is
// apperr.RateLimited: try again shortly.
func (s *Service) BeginExport(ctx context.Context, p *Principal) (release func(), err error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	select {
	case s.exports <- struct{}{}:
	default:
		return nil, &apperr.RateLimited{RetryAfter: 30 * time.Second}
	}
	release = func() { <-s.exports }
	err = store.AppendAudit(ctx, s.db, store.NewAuditEntry{ActorID: p.User.ID, Action: "account.export",
		TargetType: "user", TargetID: p.User.ID})
	if err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// WriteExport streams the user's data as a ZIP to w: one JSON file per part
// (profile.json, posts.json, …, each an array but profile.json an object)
// and the files they uploaded under files/. Nothing is held whole in memory:
// rows go from the database cursor to the archive one by one, files are
// copied from the upload directory. All parts are read in one read-only
// repeatable-read transaction, so they agree with each other.
func (s *Service) WriteExport(ctx context.Context, userID int64, w io.Writer) error {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("export: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	zw := zip.NewWriter(w)
	now := s.now()
	if err := writeReadme(zw, now); err != nil {
		return err
	}
	for _, part := range store.ExportParts {
		if err := exportPart(ctx, tx, zw, part, userID, now); err != nil {
			return err
		}
	}
	files, err := store.UploadedFiles(ctx, tx, userID)
	if err != nil {
		return err
	}
	// The rows are all read: the connection goes back to the pool before the
	// (possibly large) files are copied to a possibly slow client.
	if err := tx.Rollback(); err != nil {
		return fmt.Errorf("export: end transaction: %w", err)
	}
	for _, f := range files {
		if err := s.exportFile(zw, f, now); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("export: close archive: %w", err)
	}
	return nil
}

func writeReadme(zw *zip.Writer, now time.Time) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "README.txt", Method: zip.Deflate, Modified: now})
	if err != nil {
		return fmt.Errorf("export: readme: %w", err)
	}
	_, err = io.WriteString(w, "Forum Współpracy JST — eksport danych osobowych / personal data export\n"+
		"Utworzono / created: "+now.UTC().Format(time.RFC3339)+"\n\n"+
		"profile.json        konto / account\n"+
		"memberships.json    grupy / groups\n"+
		"threads.json        założone wątki / threads started\n"+
		"posts.json          wpisy z wersjami / posts with their revisions\n"+
		"notes.json          notatki z wersjami / notes with their revisions\n"+
		"note_edits.json     zmiany w cudzych notatkach / edits of others' notes\n"+
		"chat_messages.json  wiadomości czatu / chat messages\n"+
		"files.json, files/  przesłane pliki / uploaded files\n"+
		"attendance.json     obecność na spotkaniach / meeting attendance\n"+
		"notifications.json  powiadomienia / notifications\n"+
		"watches.json        obserwowane wątki i grupy / watched threads and groups\n"+
		"mail_prefs.json     ustawienia poczty / mail settings\n"+
		"mails.json          wysłane do Ciebie e-maile (bez treści) / mails sent to you (without bodies)\n"+
		"practices.json      dobre praktyki, których jesteś autorem / good practices you wrote\n"+
		"tournament_ballots.json  Twoje głosy w turniejach / your tournament ballots\n"+
		"review_comments.json     komentarze do materiałów / comments on training materials\n")
	return err
}

func exportPart(ctx context.Context, tx *sqlx.Tx, zw *zip.Writer, part string, userID int64, now time.Time) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: part + ".json", Method: zip.Deflate, Modified: now})
	if err != nil {
		return fmt.Errorf("export %s: %w", part, err)
	}
	single := part == "profile"
	if !single {
		if _, err := io.WriteString(w, "[\n"); err != nil {
			return err
		}
	}
	first := true
	err = store.ExportRows(ctx, tx, part, userID, func(obj []byte) error {
		if !first {
			if _, err := io.WriteString(w, ",\n"); err != nil {
				return err
			}
		}
		first = false
		_, err := w.Write(obj)
		return err
	})
	if err != nil {
		return err
	}
	end := "\n]\n"
	if single {
		end = "\n"
	}
	_, err = io.WriteString(w, end)
	return err
}

// unsafeName keeps an archive entry's name to plain characters; the stored
// name was sanitised on upload, this is belt and braces for unzip tools.
var unsafeName = regexp.MustCompile(`[^\p{L}\p{N}._ -]+`)

func (s *Service) exportFile(zw *zip.Writer, f store.ExportFile, now time.Time) error {
	name := "files/" + strconv.FormatInt(f.ID, 10) + "-" + unsafeName.ReplaceAllString(filepath.Base(f.Filename), "_")
	src, err := os.Open(filepath.Join(s.set.UploadDir, f.Checksum))
	if errors.Is(err, os.ErrNotExist) {
		// A file whose content is gone (removed by hand) is still listed in
		// files.json; the archive says so rather than failing.
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name + ".missing.txt", Method: zip.Deflate, Modified: now})
		if err != nil {
			return fmt.Errorf("export file %d: %w", f.ID, err)
		}
		_, err = io.WriteString(w, "The content of this file is no longer stored.\n")
		return err
	}
	if err != nil {
		return fmt.Errorf("export file %d: %w", f.ID, err)
	}
	defer src.Close()
	// Stored, not deflated: the allowed kinds (PDF, Office, PNG, JPEG) are
	// compressed already.
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: now})
	if err != nil {
		return fmt.Errorf("export file %d: %w", f.ID, err)
	}
	if _, err := io.Copy(w, src); err != nil {
		return fmt.Errorf("export file %d: %w", f.ID, err)
	}
	return nil
}

// DeleteAccount anonymises the principal's account after checking their
// password (throttled like a login): the name becomes "Były uczestnik", the
// e-mail a unique undeliverable address, the password unusable; position,
// JST, second factor, memberships, notifications and every session go, and
// the live connections close at once. Posts, notes and chat messages stay
// readable under the new name: the discussions belong to their groups too.
// The last enabled administrator cannot delete their account (nobody could
// administer the forum after them): 409 last_admin.
func (s *Service) DeleteAccount(ctx context.Context, p *Principal, password, ip string) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	if password == "" {
		return apperr.Invalid("password", "err.required")
	}
	if err := s.checkOwnPassword(ctx, p, password, ip); err != nil {
		return err
	}
	// The hash of a random secret nobody ever sees: verifying any password
	// against it fails like a wrong one, with no special case at login.
	unusable, err := HashPassword(randomToken(), s.set.Argon2)
	if err != nil {
		return err
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if p.User.Role == "admin" {
			n, err := store.ActiveAdminsExcept(ctx, tx, p.User.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return &apperr.Conflict{Code: "last_admin", Message: "the last administrator cannot delete their account"}
			}
		}
		if _, err := store.AnonymiseUser(ctx, tx, p.User.ID, FormerName["pl"], unusable); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return apperr.ErrUnauthenticated
			}
			return err
		}
		tx.Revoke(p.User.ID, true) // every session is gone: sockets close
		// The audit keeps who did it and when, not what the person was
		// called: that is exactly what they asked to have removed.
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: p.User.ID, Action: "account.delete",
			TargetType: "user", TargetID: p.User.ID, Details: map[string]any{"role": p.User.Role}})
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "account deleted by its owner", "user_id", p.User.ID)
	return nil
}
