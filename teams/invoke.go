package teams

import (
	"encoding/json"
	"net/http"
)

// InvokeResponse is the HTTP answer to an invoke activity: Teams reads the result of
// a card action, a dialog or a search from the response itself, not from a message.
// Status is the HTTP status (0 means 200); Body is encoded as JSON (nil: no body).
type InvokeResponse struct {
	Status int
	Body   any
}

// Content types of the Universal Actions and search invoke responses.
const (
	invokeTypeCard         = ContentTypeAdaptiveCard
	invokeTypeError        = "application/vnd.microsoft.error"
	invokeTypeLoginRequest = "application/vnd.microsoft.activity.loginRequest"
	invokeTypeSearch       = "application/vnd.microsoft.search.searchResponse"
)

type typedValue struct {
	StatusCode int    `json:"statusCode"`
	Type       string `json:"type"`
	Value      any    `json:"value"`
}

// AdaptiveCardResponse replaces the clicked card, for the user who clicked only.
func AdaptiveCardResponse(card any) InvokeResponse {
	return InvokeResponse{Status: http.StatusOK, Body: typedValue{StatusCode: http.StatusOK, Type: invokeTypeCard, Value: card}}
}

// ErrorValue is the value of an error invoke response.
type ErrorValue struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse reports a failed action to Teams. The HTTP status stays 200 for 4xx
// codes because Teams reads statusCode from the body; only server faults use the
// status itself so that monitoring sees them.
func ErrorResponse(statusCode int, code, message string) InvokeResponse {
	status := http.StatusOK
	if statusCode >= 500 {
		status = statusCode
	}
	return InvokeResponse{Status: status, Body: typedValue{StatusCode: statusCode, Type: invokeTypeError, Value: ErrorValue{Code: code, Message: message}}}
}

type signInButton struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	Value string `json:"value"`
}

type loginRequestValue struct {
	Text           string         `json:"text"`
	ConnectionName string         `json:"connectionName"`
	Buttons        []signInButton `json:"buttons"`
}

// LoginRequestResponse asks Teams to open signInURL in a pop-up (nominal sign-in for
// Universal Actions). The page must finish with teams-js authentication.notifySuccess;
// Teams then repeats the action with the code in value.state. The HTTP status is 200:
// the 401 lives in the body, where Teams looks for it.
func LoginRequestResponse(text, signInURL string) InvokeResponse {
	return InvokeResponse{Status: http.StatusOK, Body: typedValue{
		StatusCode: http.StatusUnauthorized,
		Type:       invokeTypeLoginRequest,
		Value: loginRequestValue{
			Text:    text,
			Buttons: []signInButton{{Type: "signin", Title: "Sign in", Value: signInURL}},
		},
	}}
}

type taskCard struct {
	ContentType string `json:"contentType"`
	Content     any    `json:"content"`
}

type taskContinue struct {
	Title  string   `json:"title,omitempty"`
	Height string   `json:"height,omitempty"`
	Width  string   `json:"width,omitempty"`
	Card   taskCard `json:"card"`
}

type taskBody struct {
	Task struct {
		Type  string `json:"type"`
		Value any    `json:"value"`
	} `json:"task"`
}

// EncodedCard is a card encoded once by EncodeCard, for a bot that answers the
// same card many times: a dialog (TaskCardResponse) writes its bytes as they
// are, neither encoding nor validating them again. Valid by construction.
type EncodedCard struct{ b []byte }

// EncodeCard encodes card as JSON.
func EncodeCard(card any) (EncodedCard, error) {
	b, err := json.Marshal(card)
	if err != nil {
		return EncodedCard{}, err
	}
	return EncodedCard{b}, nil
}

// JSON is the encoded card; callers must not change it.
func (c EncodedCard) JSON() []byte { return c.b }

// MarshalJSON is the card as encoded (null for the zero EncodedCard).
func (c EncodedCard) MarshalJSON() ([]byte, error) {
	if len(c.b) == 0 {
		return []byte("null"), nil
	}
	return c.b, nil
}

// TaskCardResponse opens (or continues) a dialog showing card: a value to
// encode, or an EncodedCard.
func TaskCardResponse(title string, card any) InvokeResponse {
	var b taskBody
	b.Task.Type = "continue"
	b.Task.Value = taskContinue{Title: title, Card: taskCard{ContentType: ContentTypeAdaptiveCard, Content: card}}
	return InvokeResponse{Status: http.StatusOK, Body: b}
}

// TaskMessageResponse closes a dialog and shows text.
func TaskMessageResponse(text string) InvokeResponse {
	var b taskBody
	b.Task.Type = "message"
	b.Task.Value = text
	return InvokeResponse{Status: http.StatusOK, Body: b}
}

// SearchResult is one typeahead choice: Title is shown, Value is submitted.
type SearchResult struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type searchResults struct {
	Results []SearchResult `json:"results"`
}

// SearchResponse answers an application/search invoke. No results is an empty list,
// not null, which Teams would treat as an error.
func SearchResponse(results []SearchResult) InvokeResponse {
	if results == nil {
		results = []SearchResult{}
	}
	return InvokeResponse{Status: http.StatusOK, Body: typedValue{StatusCode: http.StatusOK, Type: invokeTypeSearch, Value: searchResults{Results: results}}}
}
