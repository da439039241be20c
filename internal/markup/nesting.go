package markup

import (
	"reflect"
	"slices"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxNesting caps block quotes and lists (counted together) inside one another.
// A quote or list that would open deeper is not opened: its markers stay in the
// text as literal characters, so nothing the author wrote is lost and no error
// needs explaining. Refusing in the parser, rather than flattening the tree
// afterwards, also keeps the parse linear: goldmark's cost grows with the
// square of the depth.
const MaxNesting = 20

// boundedParser is goldmark's default parser with the block quote and list
// parsers wrapped by depthLimited.
func boundedParser() parser.Parser {
	blocks := parser.DefaultBlockParsers()
	containers := []reflect.Type{reflect.TypeOf(parser.NewBlockquoteParser()), reflect.TypeOf(parser.NewListParser())}
	for i, b := range blocks {
		if slices.Contains(containers, reflect.TypeOf(b.Value)) {
			blocks[i] = util.Prioritized(depthLimited{b.Value.(parser.BlockParser)}, b.Priority)
		}
	}
	return parser.NewParser(
		parser.WithBlockParsers(blocks...),
		// Mentions are linked only when the rendering carries People (mention.go).
		parser.WithInlineParsers(append(parser.DefaultInlineParsers(), util.Prioritized(mentionParser{}, 999))...),
		parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
	)
}

// depthLimited opens nothing below MaxNesting levels of quotes and lists.
type depthLimited struct{ parser.BlockParser }

func (d depthLimited) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	if nesting(parent) >= MaxNesting {
		return nil, parser.NoChildren
	}
	return d.BlockParser.Open(parent, reader, pc)
}

// nesting counts the quotes and lists from n up to the document. It walks at
// most MaxNesting of them, since deeper ones are never opened.
func nesting(n ast.Node) int {
	depth := 0
	for ; n != nil; n = n.Parent() {
		switch n.Kind() {
		case ast.KindBlockquote, ast.KindList:
			depth++
		}
	}
	return depth
}
