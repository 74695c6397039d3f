// Package model holds the nouns every layer of taskql shares (DESIGN §1): GORM maps these structs
// to tables and gqlgen binds them to GraphQL types, so there is no second copy to keep in step.
// It does no I/O.
package model
