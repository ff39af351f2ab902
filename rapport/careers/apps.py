from django.apps import AppConfig


class CareersConfig(AppConfig):
    name = "rapport.careers"
    label = "careers"
