package broker

import "testing"

func TestCommitsSurviveRestartAndGiveLag(t *testing.T) {
	e := newEnv(t)
	e.stream(StreamConfig{Name: "t", Partitions: 2})
	for i := range 10 {
		e.pub("t", num(i), withKey(num(i)))
	}
	if err := e.b.CommitOffsets([]Commit{{Group: "app", Stream: "t", Partition: 0, Offset: 2, Metadata: "m"},
		{Group: "app", Stream: "t", Partition: 1, Offset: 1}, {Group: "other", Stream: "t", Partition: 0, Offset: 1}}); err != nil {
		t.Fatal(err)
	}
	e.restart()
	cs, err := e.b.Committed("app", "")
	if err != nil || len(cs) != 2 || cs[0].Offset != 2 || cs[0].Metadata != "m" || cs[1].Partition != 1 {
		t.Fatalf("committed %+v %v", cs, err)
	}
	groups, _ := e.b.CommitGroups()
	if len(groups) != 2 || groups[0] != "app" || groups[1] != "other" {
		t.Fatalf("groups %v", groups)
	}
	in, _ := e.b.StreamInfo("t")
	lag, err := e.b.CommitLag("app", "t")
	if err != nil || lag[0] != in.Partitions[0].HighWatermark-2 || lag[1] != in.Partitions[1].HighWatermark-1 {
		t.Fatalf("lag %v %v (info %+v)", lag, err, in.Partitions)
	}
	if err := e.b.CommitOffsets([]Commit{{Group: "app", Stream: "t", Offset: 9}, {Group: "", Stream: "t"}}); err == nil {
		t.Fatal("a commit with an empty group name was accepted")
	}
	if cs, _ := e.b.Committed("app", "t"); cs[0].Offset != 2 {
		t.Fatalf("a refused batch stored part of itself: %+v", cs)
	}
	if err := e.b.DeleteCommit("app", "t", 1); err != nil {
		t.Fatal(err)
	}
	if cs, _ := e.b.Committed("app", "t"); len(cs) != 1 {
		t.Fatalf("after deleting partition 1: %+v", cs)
	}
	if err := e.b.DeleteCommits("app", ""); err != nil {
		t.Fatal(err)
	}
	if cs, _ := e.b.Committed("app", ""); len(cs) != 0 {
		t.Fatalf("after delete %+v", cs)
	}
}
