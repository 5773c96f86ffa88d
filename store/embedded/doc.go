// Package embedded runs FerretDB (SQLite backend) inside the bot's own process so
// that development and tests need no MongoDB server. Production images build with
// -tags noembeddb and point MONGODB_URI at a real server instead; there Start
// returns an error and Available is false.
package embedded
