package security_test

import (
	"os"
	"testing"

	"github.com/gwd-jst/forumjst/internal/pgtest"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }
