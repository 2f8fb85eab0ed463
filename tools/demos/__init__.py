"""The builders of the bundled demo collections (assets/demos): photos, shop, documents."""
