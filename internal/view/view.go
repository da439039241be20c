// Package view holds what every service's API types share: turning a list of
// database rows into the list a client gets.
package view

// All maps rows to views. A nil list stays nil, so every list encodes (null
// or []) exactly as the row slice did before rows and API types were split.
func All[R, V any](rows []R, one func(R) V) []V {
	if rows == nil {
		return nil
	}
	out := make([]V, len(rows))
	for i, r := range rows {
		out[i] = one(r)
	}
	return out
}
