"""One route module per resource; each exports `router`."""
