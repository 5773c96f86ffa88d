package cards

import (
	"net/url"
	"strings"
	"time"
)

const orgURLHint = "Paste only your organization's base URL. For example, https://dev.azure.com/fabrikam/ProjectX/\\_git/WebPortal/pullrequest/860 becomes https://dev.azure.com/fabrikam."

func orgURLInput(value string) map[string]any {
	return input(InputOrgURL, "Azure DevOps organization URL", "Enter your organization's URL, such as https://dev.azure.com/your-org.", value, true,
		map[string]any{"placeholder": "https://dev.azure.com/your-org", "style": "Url", "maxLength": 500})
}

// ConnectView is the first connect step: which organization.
type ConnectView struct {
	Demo   bool
	OrgURL string // what the user typed, kept on error
	Error  string // why that URL was refused
}

// ConnectPrompt asks for the organization URL. It uses Action.Execute so the
// next step can answer with a sign-in (loginRequest) in place.
func ConnectPrompt(v ConnectView) Card {
	body := []any{heading("Connect Azure DevOps"),
		text("Work items and comments are created with your own Azure DevOps account. First, tell me your organization.")}
	if v.Error != "" {
		body = append(body, attention(Escape(v.Error)))
	}
	body = append(body, orgURLInput(v.OrgURL), text(orgURLHint, "isSubtle", "true", "spacing", "Small"))
	return newCard(Version, v.Demo, body, withAssociated(execute("Continue", VerbConnectOrg, map[string]any{DataVerb: VerbConnectOrg}), "auto"))
}

// SignInView is the second connect step: sign in to that organization.
type SignInView struct {
	Demo   bool
	Org    string // "fabrikam"
	OrgURL string // "https://dev.azure.com/fabrikam"
	Error  string // e.g. the code was wrong or expired
	// SignInURL, when set, makes "Sign in" open that page in the browser
	// instead of asking Teams for its sign-in pop-up (a loginRequest), for
	// clients that cannot open the pop-up (the Agents Playground).
	SignInURL string
}

// ConnectSignIn offers the sign-in and, for clients where the pop-up cannot
// hand the code back, a field for the code the sign-in page shows.
func ConnectSignIn(v SignInView) Card {
	body := []any{heading("Sign in to Azure DevOps"), text(orgLine(v.Org, v.OrgURL))}
	if v.Error != "" {
		body = append(body, attention(Escape(v.Error)))
	}
	// "none": the code field below is required, and an action that gathers
	// it would not even send the sign-in request while it is empty.
	signIn := withAssociated(execute("Sign in", VerbConnectSignIn, map[string]any{DataVerb: VerbConnectSignIn, DataOrg: v.OrgURL}), "none")
	if isHTTPS(v.SignInURL) || isLoopbackHTTP(v.SignInURL) {
		signIn = openURL("Sign in", v.SignInURL)
	}
	body = append(body,
		actionSet(signIn),
		text("The sign-in link works once, for 10 minutes.", "isSubtle", "true", "spacing", "Small"),
		text("If the sign-in page shows you a code instead of closing, paste it here:", "spacing", "Large"),
		input(InputCode, "Code from the sign-in page", "Paste the code the sign-in page showed.", "", true, map[string]any{"maxLength": 200}),
		// The organization travels with the code so a wrong code keeps it.
		actionSet(withAssociated(execute("Finish connecting", VerbConnectCode, map[string]any{DataVerb: VerbConnectCode, DataOrg: v.OrgURL}), "auto")),
	)
	return newCard(Version, v.Demo, body)
}

// DialogConnectView is the connect step shown inside a dialog to someone who
// opened a form before connecting; Next says which form to show afterwards.
type DialogConnectView struct {
	Demo      bool
	SummaryID string
	InsightID string
	Next      string // the form to open afterwards: VerbCreate or VerbComment
	OrgURL    string
	Error     string
	SignInURL string // set for the second step
	Org       string
}

// DialogConnect asks for the organization inside a dialog. Dialogs cannot
// answer Action.Execute with a loginRequest, so the steps use Action.Submit
// and an Action.OpenUrl sign-in link.
func DialogConnect(v DialogConnectView) Card {
	body := []any{heading("Connect Azure DevOps first"),
		text("To create work items and comments with your own account, connect your Azure DevOps organization.")}
	if v.Error != "" {
		body = append(body, attention(Escape(v.Error)))
	}
	body = append(body, orgURLInput(v.OrgURL), text(orgURLHint, "isSubtle", "true", "spacing", "Small"))
	return newCard(Version, v.Demo, body, submit("Continue", dialogData(v, VerbDialogConnect)))
}

// DialogSignIn is the dialog's sign-in step: open the link, then paste the code.
func DialogSignIn(v DialogConnectView) Card {
	body := []any{heading("Sign in to Azure DevOps"), text(orgLine(v.Org, v.OrgURL))}
	if v.Error != "" {
		body = append(body, attention(Escape(v.Error)))
	}
	if isHTTPS(v.SignInURL) || isLoopbackHTTP(v.SignInURL) {
		body = append(body, actionSet(openURL("Sign in", v.SignInURL)))
	}
	body = append(body,
		text("The sign-in link works once, for 10 minutes. After signing in, paste the code the page shows:", "isSubtle", "true"),
		input(InputCode, "Code from the sign-in page", "Paste the code the sign-in page showed.", "", true, map[string]any{"maxLength": 200}),
	)
	return newCard(Version, v.Demo, body, submit("Finish connecting", dialogData(v, VerbDialogCode)))
}

func dialogData(v DialogConnectView, verb string) map[string]any {
	return map[string]any{DataVerb: verb, DataSummaryID: v.SummaryID, DataInsightID: v.InsightID, DataNext: v.Next}
}

func orgLine(org, orgURL string) string {
	if org == "" {
		org = orgName(orgURL)
	}
	return "Organization: " + Escape(org) + " (" + Escape(orgURL) + ")"
}

// orgName is the last path segment (dev.azure.com/fabrikam) or the host's first
// label (fabrikam.visualstudio.com).
func orgName(orgURL string) string {
	u, err := url.Parse(orgURL)
	if err != nil {
		return orgURL
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		return p
	}
	host, _, _ := strings.Cut(u.Hostname(), ".")
	return host
}

// Connected confirms the connection.
func Connected(org, name, email string) Card {
	who := Escape(name)
	if email != "" {
		who += " (" + Escape(email) + ")"
	}
	return newCard(Version, false, []any{heading("Connected to Azure DevOps"),
		text("Organization: " + Escape(org)),
		text("Signed in as " + who),
		text("Open a meeting summary and choose \"Create work item\" or \"Add comment\" on any insight.", "isSubtle", "true"),
	})
}

// Reconnect tells the user their sign-in expired or was revoked; orgURL is the
// organization's base URL, sent back with the VerbConnectSignIn action.
func Reconnect(orgURL string) Card {
	return newCard(Version, false, []any{heading("Please sign in again"),
		text("Your Azure DevOps sign-in for " + Escape(orgURL) + " has expired or was revoked. Your form is kept; sign in again and retry."),
	}, withAssociated(execute("Sign in again", VerbConnectSignIn, map[string]any{DataVerb: VerbConnectSignIn, DataOrg: orgURL}), "none"))
}

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
		text("- **connect devops**: link your Azure DevOps organization (paste only its base URL, like https://dev.azure.com/fabrikam)\n- **status**: see your connection\n- **disconnect devops**: delete your stored sign-in\n- **help**: this list\n- paste a meeting summary: I list its decisions, next steps, tasks and insights"),
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
