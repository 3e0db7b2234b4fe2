import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { useTheme } from '@material-ui/core/styles';
import { InfoCard } from '@backstage/core-components';
import type { DayCount, NhiOffboardingStats } from '../../api';
import { BarChart, durationHistogram, median, shortDay } from '../Charts';
import { formatDuration } from '../common';

const days = (series: DayCount[]) =>
  series.map(d => ({ label: shortDay(d.day), value: d.count }));

/** Charts for what people would rather look at than read. */
export const StatsCharts = (props: { stats: NhiOffboardingStats }) => {
  const theme = useTheme();
  const { stats } = props;
  const typical = median(stats.timeToVerifiedMs);
  return (
    <Grid container spacing={3}>
      <Grid item xs={12} md={4}>
        <InfoCard
          title="Completed retirements"
          subheader="Per day"
          variant="gridItem"
        >
          <BarChart
            title="Completed retirements per day"
            data={days(stats.completedPerDay)}
          />
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={4}>
        <InfoCard
          title="Residual access"
          subheader="Live anchors of retired entities, per day"
          variant="gridItem"
        >
          {stats.residualPerDay ? (
            <BarChart
              title="Live anchors of deprecated, retired or removed entities per day"
              data={days(stats.residualPerDay)}
              color={theme.palette.warning.main}
            />
          ) : (
            <Typography variant="body2" color="textSecondary">
              The backend does not keep this history yet.
            </Typography>
          )}
        </InfoCard>
      </Grid>
      <Grid item xs={12} md={4}>
        <InfoCard
          title="Time to verified"
          subheader={
            typical !== undefined
              ? `From start to verified completion; median ${formatDuration(
                  typical,
                )}`
              : 'From start to verified completion'
          }
          variant="gridItem"
        >
          <BarChart
            title="Retirements by time from start to verified completion"
            data={durationHistogram(stats.timeToVerifiedMs)}
            maxLabels={4}
            color={theme.palette.success.main}
          />
        </InfoCard>
      </Grid>
    </Grid>
  );
};
