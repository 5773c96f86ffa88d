package bot

import "github.com/sally-devops/devopsbot/devops"

// ForgetLiveStatus empties the bot's work item status cache, so that a test
// can see a change in Azure DevOps without waiting for the cache to expire.
func ForgetLiveStatus(b *Bot) { b.status = devops.NewStatusCache(statusTTL) }
