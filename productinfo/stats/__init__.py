"""The numbers of the admin's dashboard: captures per day and person, photos, makers."""
