// Package security is the security regression suite (issue 10): each file of
// tests reproduces one class of attack found against a running server, over real
// HTTP and websockets on loopback against a real PostgreSQL, and must keep
// failing if the fix it guards is undone. The package has no code of its own.
package security
