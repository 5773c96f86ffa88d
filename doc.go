// Package devopsbot is the domain of Sally for Azure DevOps: what a meeting
// summary, an insight, a user's connection to Azure DevOps and the record of an
// action taken on an insight are, the rules they obey (in the doc comments), and
// the small interfaces through which the bot keeps them (services.go).
//
// It imports no outside system. Storage (package store), Teams (teams), Azure
// DevOps (devops), Graph (graph) and cards (cards) depend on it, never the other
// way round; package bot ties them together by use case.
package devopsbot
