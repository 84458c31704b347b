package main

import (
	"strings"

	"github.com/esimd/esimd/esimapi"
)

func countryCodes(cs []esimapi.Country) string {
	codes := make([]string, 0, len(cs))
	for _, c := range cs {
		codes = append(codes, c.ISO)
	}
	return strings.Join(codes, ",")
}

// shortCountries lists a few countries and counts the rest, for tables.
func shortCountries(cs []esimapi.Country) string {
	const show = 4
	if len(cs) <= show+1 {
		return countryCodes(cs)
	}
	return countryCodes(cs[:show]) + " +" + itoa(len(cs)-show)
}

// catalogue list
func (a *app) catalogueList(args []string) error {
	fs := a.flagSet("catalogue list")
	var q esimapi.CatalogueQuery
	countries := fs.String("country", "", "ISO country codes, comma-separated: bundles with one of them as a base country")
	fs.StringVar(&q.Region, "region", "", "region name, such as Europe")
	fs.StringVar(&q.Group, "group", "", "exact group name, such as \"Standard Fixed\"")
	fs.StringVar(&q.Description, "description", "", "text the description contains (or a pattern with *)")
	fs.StringVar(&q.OrderBy, "order-by", "", "sort by name, description, price, duration, dataAmount or profileName")
	desc := fs.Bool("desc", false, "sort descending")
	limit := fs.Int("limit", 0, "show at most this many bundles (0: all)")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	q.Countries = splitList(*countries)
	// Few large pages: the catalogue has thousands of bundles and the API
	// allows 10 requests a second.
	q.PerPage = 1000
	if *limit > 0 && *limit < q.PerPage {
		q.PerPage = *limit
	}
	if *desc {
		q.Direction = "desc"
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	var bundles []esimapi.Bundle
	for b, err := range c.AllBundles(a.ctx, q) {
		if err != nil {
			return err
		}
		bundles = append(bundles, b)
		if *limit > 0 && len(bundles) == *limit {
			break
		}
	}
	if a.json {
		if bundles == nil {
			bundles = []esimapi.Bundle{}
		}
		return a.printJSON(bundles)
	}
	t := a.table("NAME", "DATA", "DAYS", "PRICE", "COUNTRIES", "PROFILE")
	for _, b := range bundles {
		t.row(b.Name, megabytesText(b.DataAmount, b.Unlimited), b.Duration, b.Price, shortCountries(b.Countries), b.ProfileName)
	}
	return t.flush()
}

// catalogue show NAME
func (a *app) catalogueShow(args []string) error {
	fs := a.flagSet("catalogue show")
	pos, err := a.parse(fs, args, 1, "NAME")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	b, err := c.Bundle(a.ctx, pos[0])
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(b)
	}
	return a.fields("Name", b.Name, "Description", b.Description, "Groups", strings.Join(b.Groups, ", "),
		"Data", megabytesText(b.DataAmount, b.Unlimited), "Duration", pluralDays(b.Duration), "Price", b.Price,
		"Countries", countryCodes(b.Countries), "Roaming", countryCodes(b.RoamingEnabled),
		"Speed", strings.Join(b.Speed, ", "), "Autostart", b.Autostart, "Profile", b.ProfileName)
}

func pluralDays(n int) string {
	if n == 1 {
		return "1 day"
	}
	return itoa(n) + " days"
}
