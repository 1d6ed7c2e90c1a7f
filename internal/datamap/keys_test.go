package datamap

import "testing"

func TestPartitionAndSortKeyFromPatterns(t *testing.T) {
	req := MustLookup(DeletionRequest)
	if pk, err := req.Partition("", map[string]string{"request": "r1"}); err != nil || pk != "R#r1" {
		t.Errorf("table partition: %q %v", pk, err)
	}
	if pk, err := req.Partition("GSI1", map[string]string{"account": "a1"}); err != nil || pk != "ACCTREQ#a1" {
		t.Errorf("index partition: %q %v", pk, err)
	}
	if sk, err := req.SortKey(nil); err != nil || sk != "REQUEST" {
		t.Errorf("sort key: %q %v", sk, err)
	}
	if _, err := req.Partition("GSI3", nil); err == nil {
		t.Error("an index the category does not have")
	}
	if _, err := req.Partition("GSI1", map[string]string{}); err == nil {
		t.Error("a partition with a hole")
	}
}
