from django.apps import AppConfig


class FaqConfig(AppConfig):
    name = "rapport.faq"
    label = "faq"
