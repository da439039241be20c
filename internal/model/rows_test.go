package model_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestRowsHaveNoJSONTags guards "no row struct is ever serialised to a client"
// (issue 11). Rows (internal/model, exported types of internal/store) carry db
// tags only; what a client sees is an API type next to its service
// (accounts.UserView, forum.Post, …) that lists the SPEC §4 fields.
//
// Why this guards it: a JSON tag on a row is what makes serialising the row
// look right, so a handler could hand it to c.JSON and every new column (a
// password hash, a token) would follow it out. Without tags, a row that
// reaches a response — directly or embedded in a response type — comes out
// with Go field names ("ID", "PasswordHash"), which the API tests, decoding
// snake_case, catch at once; and nobody can add a column "hidden by json:-".
// Unexported store types may carry tags: they decode JSON that a query
// builds (json_agg) and cannot leave the package.
func TestRowsHaveNoJSONTags(t *testing.T) {
	var found []string
	for _, dir := range []string{".", "../store"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		fset := token.NewFileSet()
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok || !ts.Name.IsExported() {
					return true
				}
				// Nested struct types (a field of type struct{…}) are walked too.
				ast.Inspect(ts.Type, func(n ast.Node) bool {
					field, ok := n.(*ast.Field)
					if !ok || field.Tag == nil {
						return true
					}
					tag, err := strconv.Unquote(field.Tag.Value)
					if err != nil {
						t.Fatalf("%s: tag %s: %v", fset.Position(field.Pos()), field.Tag.Value, err)
					}
					if _, has := reflect.StructTag(tag).Lookup("json"); has {
						found = append(found, fset.Position(field.Pos()).String()+": "+ts.Name.Name)
					}
					return true
				})
				return true
			})
		}
	}
	sort.Strings(found)
	for _, f := range found {
		t.Errorf("%s: a row has a json tag; give the client an API type in its service instead", f)
	}
}
