"""Demo traffic: a pure model of report arrivals (model.py) and the services that store it."""
