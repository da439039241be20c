package store

// SearchAttempt runs one of SearchDocs' two attempts: the walk over the
// newest documents (window) or the read of every match from the GIN index.
var SearchAttempt = searchDocs
