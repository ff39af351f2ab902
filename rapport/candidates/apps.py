from django.apps import AppConfig


class CandidatesConfig(AppConfig):
    name = "rapport.candidates"
    label = "candidates"
