"""Reading Chinese as villagers and captains write it: normalisation, the category lexicon, and the request, activity and schedule-rule parsers."""
