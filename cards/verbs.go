package cards

// The words a card and the bot must agree on: the verb each button sends, the
// keys of the data it sends with it, and the id of each input (Teams merges
// the inputs' values into the action's data under those ids). They are
// declared here once; the bot reads clicks with these names, and tests in
// both packages check that every verb a card sends is one the bot handles.

// DataVerb is the data key that carries a button's verb. Action.Submit has no
// verb of its own, and Action.Execute carries it here too, so one key serves
// dialogs and in-card answers alike.
const DataVerb = "sally"

// Verbs of the summary card and the forms.
const (
	VerbCreate        = "create"         // opens the create form for an insight
	VerbComment       = "comment"        // opens the comment form for an insight
	VerbCreateReload  = "create.reload"  // reloads the create form for the project chosen
	VerbCreateSubmit  = "create.submit"  // creates the work item
	VerbCommentSubmit = "comment.submit" // adds the comment
	VerbCancel        = "form.cancel"    // closes an in-card form: the plain summary again
)

// Verbs of the connect steps, in a chat card and inside a form's dialog.
const (
	VerbConnect       = "connect.start"  // starts connecting (a next step of error cards)
	VerbConnectOrg    = "connect.org"    // the organization URL typed in the chat card
	VerbConnectSignIn = "connect.signin" // asks for the sign-in pop-up (loginRequest)
	VerbConnectCode   = "connect.code"   // the code the sign-in page showed
	VerbDialogConnect = "dialog.connect" // the organization URL typed in a form's dialog
	VerbDialogCode    = "dialog.code"    // the code, typed in a form's dialog
	VerbHelp          = "help"           // opens the help card (a next step of error cards)
)

// VerbRefresh is the verb of a summary card's refresh action (status.go):
// Teams sends it by itself when a person the card names looks at it.
const VerbRefresh = "refresh"

// Verbs lists every verb a card of this package sends.
var Verbs = []string{
	VerbCreate, VerbComment, VerbCreateReload, VerbCreateSubmit, VerbCommentSubmit, VerbCancel,
	VerbConnect, VerbConnectOrg, VerbConnectSignIn, VerbConnectCode, VerbDialogConnect, VerbDialogCode, VerbHelp,
	VerbRefresh,
	VerbAllTasks, VerbAllTasksReload, VerbAllTasksSubmit, // alltasks.go
	VerbDefaultsReload, VerbDefaultsSave, VerbDefaultsClear, // defaults.go
}

// Keys of the data buttons send besides the verb.
const (
	DataSummaryID = "summaryId" // the summary clicked
	DataInsightID = "insightId" // the insight clicked
	DataNext      = "next"      // in a dialog's connect step: the form to open afterwards (VerbCreate or VerbComment)
	DataOrg       = "org"       // in the sign-in steps: the organization's base URL
	DataPart      = "part"      // in a summary card's refresh: which of its cards (RefreshData)
)

// Input ids of the forms. A type's own fields have ids of their own:
// FieldInputPrefix and the field's reference name.
const (
	InputProject        = "project"
	InputWorkItemType   = "workItemType"
	InputAssignedTo     = "assignedTo"
	InputAreaPath       = "areaPath"
	InputIterationPath  = "iterationPath"
	InputTitle          = "title"
	InputDescription    = "description"
	InputParent         = "parent"  // a typeahead, or a number where search is not offered
	InputDueDate        = "dueDate" // the type's due-date field
	InputWorkItemID     = "workItemId"
	InputWorkItemSearch = "workItemSearch" // the typeahead; its value is a work item id
	InputComment        = "comment"
	InputOrgURL         = "orgUrl"
	InputCode           = "code"
)

// DatasetWorkItems is the Data.Query dataset of the work item typeahead: the
// bot answers application/search invokes for it.
const DatasetWorkItems = "workitems"
