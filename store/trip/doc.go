// Package trip composes the store, the bundle format and the transports
// into the three steps of a trip: Save makes a bundle from images, Verify
// checks one without writing anything, Load ingests one into a home and
// writes its images to targets. It holds the rules of DESIGN.md's "What a
// fault costs"; the command line only parses flags and prints reports.
package trip
