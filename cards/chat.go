package cards

import (
	"strings"
	"time"
)

// The cards of the chat commands: status, help, welcome, disconnect, and the
// answer when a feature is not set up.

// NotConfigured says a feature needs setup by whoever runs the bot.
func NotConfigured(feature string) Card {
	return newCard(Version, false, []any{heading("Not set up yet"),
		text(Escape(feature) + " is not configured for this bot. Please ask the person who runs Sally to set it up."),
	})
}

// StatusView is what "status" shows.
type StatusView struct {
	Demo      bool
	Connected bool
	Org       string
	OrgURL    string
	Name      string
	Email     string
	Scopes    []string
	Since     time.Time // when the connection was made
	Defaults  FormDefaults
}

// FormDefaults are the choices the next create form starts with.
type FormDefaults struct {
	Project, WorkItemType, Area, Iteration string
}

// Status shows whether and how the user is connected.
func Status(v StatusView) Card {
	if !v.Connected {
		return newCard(Version, v.Demo, []any{heading("Not connected"),
			text("You have not connected Azure DevOps yet. Type **connect devops** to start.")})
	}
	body := []any{heading("Connected to Azure DevOps"), text(orgLine(v.Org, v.OrgURL))}
	if v.Name != "" || v.Email != "" {
		who := Escape(v.Name)
		if v.Email != "" {
			who += " (" + Escape(v.Email) + ")"
		}
		body = append(body, text("Signed in as "+who))
	}
	if !v.Since.IsZero() {
		ts := v.Since.UTC().Format("2006-01-02T15:04:05Z")
		body = append(body, text("Connected since {{DATE("+ts+", SHORT)}} {{TIME("+ts+")}}", "isSubtle", "true"))
	}
	if len(v.Scopes) > 0 {
		esc := make([]string, len(v.Scopes))
		for i, s := range v.Scopes {
			esc[i] = Escape(s)
		}
		body = append(body, text("Permissions: "+strings.Join(esc, ", "), "isSubtle", "true"))
	}
	if d := v.Defaults; d.Project != "" {
		facts := []any{fact("Project", d.Project)}
		if d.WorkItemType != "" {
			facts = append(facts, fact("Work item type", d.WorkItemType))
		}
		if d.Area != "" {
			facts = append(facts, fact("Area", d.Area))
		}
		if d.Iteration != "" {
			facts = append(facts, fact("Iteration", d.Iteration))
		}
		body = append(body, text("Your next work item form starts with your last choices:", "spacing", "Medium"),
			map[string]any{"type": "FactSet", "facts": facts})
	} else {
		body = append(body, text("Your first work item form will ask for the project, area and iteration, and remember them for the next one.", "spacing", "Medium"))
	}
	body = append(body, text("Type **disconnect devops** to remove your stored sign-in.", "isSubtle", "true"))
	return newCard(Version, v.Demo, body)
}

// fact is one line of a FactSet; FactSet values render Markdown in Teams too.
func fact(title, value string) map[string]any {
	return map[string]any{"title": title, "value": Escape(value)}
}

// Disconnected confirms that the stored sign-in was deleted.
func Disconnected() Card {
	return newCard(Version, false, []any{heading("Disconnected"),
		text("Your Azure DevOps sign-in was deleted. Type **connect devops** to connect again.")})
}

// Help lists what the bot does and the exact commands (the manifest lists the same).
func Help() Card {
	return newCard(Version, false, []any{heading("What Sally can do"),
		text("I turn meeting insights, decisions, next steps and tasks into Azure DevOps work items and comments, created with your own Azure DevOps account and only when you click."),
		text("- **connect devops**: link your Azure DevOps organization (paste only its base URL, like https://dev.azure.com/fabrikam)\n- **status**: see your connection\n- **defaults**: choose where everyone's forms in this chat start (project, area, iteration, type)\n- **disconnect devops**: delete your stored sign-in\n- **help**: this list\n- paste a meeting summary: I list its decisions, next steps, tasks and insights"),
		text("On a summary, choose **Create work item** or **Add comment** under any insight. In group chats and meetings, @mention me so I hear you.", "isSubtle", "true"),
	})
}

// Welcome greets someone who just installed the bot.
func Welcome() Card {
	return newCard(Version, false, []any{heading("Hi, I'm Sally"),
		text("I turn meeting insights into Azure DevOps work items and comments, created with your own account."),
		text("Start with **connect devops**, then paste a meeting summary or wait for one to arrive after your next meeting.", "isSubtle", "true"),
	})
}

// Hint is the text answer to a message the bot did not understand.
func Hint() string {
	return "I didn't catch that. Type help to see what I can do, or paste a meeting summary."
}
