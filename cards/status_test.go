package cards

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sally-devops/devopsbot"
)

func TestWithRefreshNamesAtMost60AndKeepsTheCardWithinItsSize(t *testing.T) {
	var ids []string
	for i := range 80 {
		ids = append(ids, fmt.Sprintf("29:%03d-%s", i, strings.Repeat("x", 100)))
	}
	parts := summaryCards(weeklySync(t))
	c := WithRefresh(parts[0], "s1", 0, ids)
	got, data, ok := RefreshOf(c)
	if !ok || len(got) != MaxRefreshUsers || got[0] != ids[0] || data.SummaryID != "s1" || data.Sally != VerbRefresh {
		t.Fatalf("refresh: %d ids (%v), data %+v", len(got), ok, data)
	}
	if _, _, ok := RefreshOf(parts[0]); ok {
		t.Error("WithRefresh modified the card it was given")
	}
	// A long summary's parts are already near the limit: fewer people, never a bigger card.
	full := SummaryView{SummaryID: "s1"}
	for i := range 40 {
		full.Insights = append(full.Insights, InsightView{Insight: devopsbot.Insight{ID: fmt.Sprint("t", i), Kind: devopsbot.KindTask, Text: strings.Repeat("word ", 200)}})
	}
	for i, p := range summaryCards(full) {
		c := WithRefresh(p, "s1", i, ids)
		if n := size(c); n > MaxCardBytes {
			t.Errorf("part %d with its refresh is %d bytes, over %d", i, n, MaxCardBytes)
		}
	}
	// Nobody to name: no refresh (Teams would refresh it for everyone in a small chat).
	if _, _, ok := RefreshOf(WithRefresh(parts[0], "s1", 0, nil)); ok {
		t.Error("a refresh without user ids")
	}
}

func TestLiveResultLine(t *testing.T) {
	v := liveSync(t, false, true)
	v.Insights[4].Results[3].Now = &ItemNow{State: "Closed"} // a comment keeps its line
	c := summaryCards(v)
	all := fmt.Sprint(c)
	for _, want := range []string{
		"Task 1234 · Active · Lee Gu: Add a 2 s timeout to the address client (created by Adele Vance)",
		"Bug 1240 · New · Unassigned: Checkout times out on slow networks (created by Megan Bowen)",
		"Created Task 1250: Write the runbook (by Lee Gu)", // gone since: as created
		"Commented on Bug 1240",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the refreshed card lacks %q:\n%s", want, all)
		}
	}
}
