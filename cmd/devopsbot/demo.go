package main

import (
	"github.com/sally-devops/devopsbot/bot"
	"github.com/sally-devops/devopsbot/devops"
	"github.com/sally-devops/devopsbot/devops/devopstest"
)

// demoToken is the only token the demo organization accepts; it lives in this
// process only and grants nothing anywhere else.
const demoToken = "demo-token-not-a-secret"

// startDemo runs the fake Azure DevOps organization in-process for DEMO_MODE.
func startDemo() (*bot.Demo, devops.Hosts, func(), error) {
	org, stop := devopstest.Start()
	org.AddToken(demoToken, devopstest.Adele)
	org.SeedBacklog() // an epic, a feature and a story for the create form's Parent to offer
	return &bot.Demo{Org: org.Org(), Token: demoToken, Identity: devopstest.Adele}, org.Hosts, stop, nil
}
