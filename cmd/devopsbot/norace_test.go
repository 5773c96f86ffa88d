//go:build !race

package main

const raceExtraAllocs = 0
