package devopsbot

import "testing"

// Summary ids are stored (and in links and card data): a change of the
// formula would make a sender's retry or a re-paste a second summary. These
// are the ids summaries were stored under before the rule moved here.
func TestSummaryIDsNeverChange(t *testing.T) {
	if got := SummaryID("delivery-1", "19:chat"); got != "c8c93ffac649d2c4194b9c04c8033d80" {
		t.Errorf("SummaryID = %s", got)
	}
	if got := ContentSummaryID("k1", "19:chat"); got != "4be8f9fc26e398e0fe5f24b1c975ae8a" {
		t.Errorf("ContentSummaryID = %s", got)
	}
}
