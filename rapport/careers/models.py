from django.db import models


class ApplyFormStat(models.Model):
    """How many people opened a job's apply form and how many sent it, per source and day (the completion rate)."""

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="apply_form_stats")
    source = models.CharField(max_length=50)
    day = models.DateField()
    started = models.PositiveIntegerField(default=0)
    submitted = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "source", "day"], name="apply_form_stat_unique")]

    def __str__(self) -> str:
        return f"{self.job_id} {self.source} {self.day}: {self.submitted}/{self.started}"


class QuestionKind(models.TextChoices):
    TEXT = "text", "Text"
    CHOICE = "choice", "Choice"
    YES_NO = "yes_no", "Yes / no"


class JobQuestion(models.Model):
    """A screening question asked on a job's apply form; a knock-out answer flags the application for the team."""

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="screening_questions")
    text = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices, default=QuestionKind.TEXT)
    choices = models.JSONField(default=list, blank=True)  # the options of a choice question
    required = models.BooleanField(default=False)
    # The answer that rules an applicant out ("no" to "Can you work in the EU?"); empty for none.
    knockout_answer = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["job", "position"], name="job_question_job_position")]

    def __str__(self) -> str:
        return self.text

    @property
    def options(self) -> list[str]:
        if self.kind == QuestionKind.YES_NO:
            return ["yes", "no"]
        return [str(choice) for choice in self.choices or []]


class ScreeningAnswer(models.Model):
    """An applicant's answer to a screening question, with the question's wording as they saw it."""

    application = models.ForeignKey("pipeline.Application", on_delete=models.CASCADE, related_name="screening_answers")
    question = models.ForeignKey(JobQuestion, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers")
    question_text = models.CharField(max_length=300)
    answer = models.TextField(blank=True)
    knocked_out = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.question_text}: {self.answer[:40]}"
