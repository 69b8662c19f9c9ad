package spec

// Catalog format v1 (catalog-v1.md).
const (
	// CatalogSchemaVersion is the catalog schema version this build
	// writes: the version of its last migration. It opens catalogs of
	// this version or older (migrating them) and refuses newer ones.
	CatalogSchemaVersion = 3
	// CatalogFile is the catalog's file name inside a home.
	CatalogFile = "catalog.db"
)
